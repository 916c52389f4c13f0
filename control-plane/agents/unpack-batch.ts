import { Code, ConnectError } from "@connectrpc/connect";
import type { SessionRequest } from "../../gen/deerflow/v1/agent_pb.js";

/**
 * One message of the agent's with its batch opened: the message itself,
 * or the messages of its batch, in order. A batch is checked whole before
 * any of it is handled: one that holds a batch, a hello or an empty
 * message is refused, naming the message, and none of it takes effect.
 */
export function unpackBatch(
  request: SessionRequest,
): readonly SessionRequest[] {
  const m = request.message;
  if (m.case !== "batch") return [request];
  m.value.messages.forEach((inner, i) => {
    const kind = inner.message.case;
    if (kind === undefined || kind === "batch" || kind === "hello") {
      throw new ConnectError(
        `message.batch.messages[${i}]: ${
          kind === undefined
            ? "an empty message"
            : `a batch may not hold a ${kind}`
        }`,
        Code.InvalidArgument,
      );
    }
  });
  return m.value.messages;
}
