/** The parts of a task's retry policy that set the delay (SPEC §3). */
export interface RetryDelayPolicy {
  /** Seconds before the second attempt; default 1. */
  initial_delay?: number;
  /** Upper bound in seconds; default 300. */
  max_delay?: number;
  /** Default "exponential". */
  backoff?: "fixed" | "linear" | "exponential";
  /** Growth factor for exponential backoff; default 2. */
  multiplier?: number;
  /**
   * Fraction of the delay drawn at random, 0..1; `true` is 1 and `false`
   * is 0 (definitions may write either); default 0.
   */
  jitter?: number | boolean;
}

/**
 * Milliseconds to wait before attempt `nextAttempt` (2 for the first
 * retry). `random` is injected so that tests can pin jitter.
 */
export function retryDelayMs(
  policy: RetryDelayPolicy,
  nextAttempt: number,
  random: () => number = Math.random,
): number {
  const initial = (policy.initial_delay ?? 1) * 1000;
  const max = (policy.max_delay ?? 300) * 1000;
  const retries = Math.max(0, nextAttempt - 2);
  let delay: number;
  switch (policy.backoff ?? "exponential") {
    case "fixed":
      delay = initial;
      break;
    case "linear":
      delay = initial * (retries + 1);
      break;
    case "exponential":
      delay = initial * (policy.multiplier ?? 2) ** retries;
      break;
  }
  delay = Math.min(delay, max);
  const jitter = jitterFraction(policy.jitter);
  return Math.round(delay * (1 - jitter * random()));
}

function jitterFraction(jitter: number | boolean | undefined): number {
  if (typeof jitter === "boolean") return jitter ? 1 : 0;
  return Math.min(Math.max(jitter ?? 0, 0), 1);
}
