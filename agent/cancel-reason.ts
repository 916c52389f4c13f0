import type { AbortReason } from "./attempt.js";

/**
 * The abort reason for a Cancel's reason (agent.proto names "killed",
 * "cancelled", "revoked", "stale" and "lost"):
 * - "lost": the control plane took the lease back when it expired; the
 *   attempt is recorded lost and retried elsewhere;
 * - "stale" and "revoked": the lease is no longer this agent's, so the
 *   attempt is stopped as stale and its result not sent;
 * - anything else ("killed", "cancelled", unknown): a user stopped it.
 */
export function abortReasonOfCancel(
  reason: string,
): Extract<AbortReason, "killed" | "lost" | "stale"> {
  switch (reason) {
    case "lost":
      return "lost";
    case "stale":
    case "revoked":
      return "stale";
    default:
      return "killed";
  }
}
