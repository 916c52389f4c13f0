import { Code, ConnectError } from "@connectrpc/connect";
import type { SessionRequest } from "../../gen/deerflow/v1/agent_pb.js";
import { checkLeaseRefs } from "./check-lease-refs.js";

/**
 * One message of the agent's with its batch opened: the message itself,
 * or the messages of its batch, in order. A batch is checked whole before
 * any of it is handled: one that holds a batch, a hello, an empty
 * message or a malformed lease ref (checkLeaseRefs) is refused, naming
 * the message, and none of it takes effect.
 */
export function unpackBatch(
  request: SessionRequest,
): readonly SessionRequest[] {
  const m = request.message;
  if (m.case !== "batch") {
    checkLeaseRefs(request, "message");
    return [request];
  }
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
    checkLeaseRefs(inner, `message.batch.messages[${i}]`);
  });
  return m.value.messages;
}
