import { Code, ConnectError } from "@connectrpc/connect";
import type {
  SessionRequest,
  SessionResponse,
} from "../../gen/deerflow/v1/agent_pb.js";
import { AgentSession } from "./agent-session.js";
import type { AgentSessionDeps } from "./agent-session-deps.js";
import { validateHello } from "./validate-hello.js";

/**
 * Serves one agent's stream: checks its hello, registers it, then answers
 * its messages while the dispatcher and operators push assignments,
 * cancels and drain orders onto the same stream. `signal` ends it with
 * its reason.
 */
export async function* serveAgentSession(
  requests: AsyncIterable<SessionRequest>,
  deps: AgentSessionDeps,
  peer: string,
  signal?: AbortSignal,
): AsyncIterable<SessionResponse> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done || first.value.message.case !== "hello") {
    throw new ConnectError(
      "message: the first message of a session must be hello",
      Code.InvalidArgument,
    );
  }
  const hello = first.value.message.value;
  const { profile, held } = validateHello(hello);
  const session = new AgentSession(profile, deps, peer, {
    batches: hello.acceptsBatches,
    jsonValues: hello.acceptsJsonValues,
  });
  // The call's own end (connect-es aborts it when the control plane stops,
  // with Unavailable, or at the caller's deadline) ends the session with
  // its reason, where the stream would otherwise be cut without one.
  const stop = () => session.end(ConnectError.from(signal?.reason));
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    yield* session.run(held, iterator);
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
