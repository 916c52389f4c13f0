import { Code, ConnectError } from "@connectrpc/connect";

/** The trailer in which the control plane says why it ended a session. */
const ENDED_TRAILER = "deerflow-session-ended";
const SUPERSEDED = "superseded";

/**
 * Ends an agent's session when a newer session of the same agent id said
 * hello. FailedPrecondition: retrying cannot help while two processes
 * claim one identity; an operator has to give one of them its own.
 */
export function sessionSupersededError(
  agentId: string,
  peer: string,
): ConnectError {
  return new ConnectError(
    `superseded by a newer session of agent ${agentId} from ${peer}`,
    Code.FailedPrecondition,
    { [ENDED_TRAILER]: SUPERSEDED },
  );
}

/** Whether a session ended with sessionSupersededError. */
export function isSessionSuperseded(error: unknown): boolean {
  if (!(error instanceof ConnectError)) return false;
  return (
    error.code === Code.FailedPrecondition &&
    error.metadata.get(ENDED_TRAILER) === SUPERSEDED
  );
}
