import type { JsonObject } from "../../plugin-sdk/index.js";
import { type RetryDelayPolicy, retryDelayMs } from "./retry-delay.js";

/** How an attempt failed, as a retry policy sees it. */
export interface AttemptFailure {
  /** "error", "timeout", "lost", "5xx", "429", ... */
  retryClass: string;
  exitCode?: number | undefined;
  /** False when the plugin declared the failure final. */
  retryable: boolean;
  /** A wait the remote side asked for (Retry-After). */
  retryAfterMs?: number | undefined;
}

export type RetryDecision =
  | { state: "RETRY"; notBefore: Date; delayMs: number }
  | { state: "FAILED"; reason: string };

const DEFAULT_RETRY_ON = ["error", "timeout", "lost"];

/** The longest Retry-After honoured. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Whether a failed attempt is followed by another, and when (SPEC §3
 * `retry`). `attemptCount` is the number of attempts made so far.
 */
export function decideRetry(
  spec: JsonObject,
  attemptCount: number,
  maxAttempts: number,
  failure: AttemptFailure,
  now: Date,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.retryable) {
    return { state: "FAILED", reason: "the failure is not retryable" };
  }
  if (attemptCount >= maxAttempts) {
    return { state: "FAILED", reason: `all ${maxAttempts} attempts failed` };
  }
  const policy = (spec.retry ?? {}) as RetryDelayPolicy & {
    retry_on?: string[];
  };
  const retryOn = policy.retry_on ?? DEFAULT_RETRY_ON;
  if (!matchesRetryOn(retryOn, failure)) {
    return {
      state: "FAILED",
      reason: `retry_on does not include ${failure.retryClass}`,
    };
  }
  // The remote side's wait is honoured, up to an hour: a Retry-After
  // date years ahead must not park a task for good.
  const asked = Math.min(failure.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
  // A lost attempt says nothing about the task or what it calls: its
  // agent died or was cut off, and the lease's expiry was the wait. It
  // runs again elsewhere at once; the backoff is for failures.
  const backoff =
    failure.retryClass === "lost"
      ? 0
      : retryDelayMs(policy, attemptCount + 1, random);
  const delayMs = Math.max(backoff, asked);
  return {
    state: "RETRY",
    notBefore: new Date(now.getTime() + delayMs),
    delayMs,
  };
}

function matchesRetryOn(retryOn: string[], failure: AttemptFailure): boolean {
  if (retryOn.includes(failure.retryClass)) return true;
  return (
    failure.exitCode !== undefined &&
    retryOn.includes(`exit_code:${failure.exitCode}`)
  );
}
