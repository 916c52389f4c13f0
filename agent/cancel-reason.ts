import type { AbortReason } from "./attempt.js";

/**
 * The abort reason for a Cancel's reason (agent.proto names "killed",
 * "cancelled", "revoked", "stale" and "lost"):
 * - "lost": the control plane took the lease back when it expired; the
 *   attempt is stopped and recorded lost, and its lease is no longer
 *   renewed;
 * - "stale": the lease is no longer this agent's, so the attempt is
 *   stopped and its result not sent;
 * - "revoked": an operator took the lease back; the control plane
 *   records the attempt LOST and runs the task again, so the agent says
 *   LOST too;
 * - anything else ("killed", "cancelled", unknown): a user stopped it.
 * A revoked or killed attempt's lease is renewed until its result is in,
 * and the result, though refused, is what tells the control plane the
 * attempt has stopped: the task then runs again at once, never beside
 * its attempt still stopping.
 */
export function abortReasonOfCancel(
  reason: string,
): Extract<AbortReason, "killed" | "revoked" | "lost" | "stale"> {
  switch (reason) {
    case "lost":
      return "lost";
    case "stale":
      return "stale";
    case "revoked":
      return "revoked";
    default:
      return "killed";
  }
}
