import { Code, ConnectError } from "@connectrpc/connect";
import type { SessionRequest } from "../../gen/deerflow/v1/agent_pb.js";

/**
 * The agent's messages with its batches opened, in order: one message, or
 * the messages of one batch, at a time. A batch is checked whole before
 * any of it is handled: one that holds a batch, a hello or an empty
 * message is refused, naming the message, and none of it takes effect.
 */
export async function* unpackBatches(
  requests: AsyncIterator<SessionRequest>,
): AsyncGenerator<readonly SessionRequest[]> {
  for (;;) {
    const next = await requests.next();
    if (next.done) return;
    const m = next.value.message;
    if (m.case !== "batch") {
      yield [next.value];
      continue;
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
    });
    yield m.value.messages;
  }
}
