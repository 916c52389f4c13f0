import type { AbortReason } from "./attempt.js";

/**
 * The abort reason for a Cancel's reason (agent.proto names "killed",
 * "cancelled", "revoked", "stale" and "lost"):
 * - "lost" and "revoked": the control plane took the lease back (it
 *   expired, or an operator revoked it); the attempt is stopped, recorded
 *   lost and retried by its policy. Its result is still sent: for a
 *   revoked lease it is what tells the control plane the attempt has
 *   stopped, so the task may run again at once instead of when the lease
 *   would have run out;
 * - "stale": the lease is no longer this agent's, so the attempt is
 *   stopped and its result not sent;
 * - anything else ("killed", "cancelled", unknown): a user stopped it.
 */
export function abortReasonOfCancel(
  reason: string,
): Extract<AbortReason, "killed" | "lost" | "stale"> {
  switch (reason) {
    case "lost":
    case "revoked":
      return "lost";
    case "stale":
      return "stale";
    default:
      return "killed";
  }
}
