/** How in-attempt retries wait; every field in milliseconds. */
export interface RetryDelayOptions {
  /** The first backoff delay. Default 1000. */
  baseDelayMs?: number;
  /** The longest backoff delay. Default 30000. */
  maxDelayMs?: number;
  /**
   * The longest Retry-After waited within the attempt. A longer one ends
   * the attempt, and the task's retry policy waits it out instead (the
   * agent holds no lease idle for minutes). Default 300000.
   */
  maxRetryAfterMs?: number;
}

export const RETRY_DELAY_DEFAULTS = {
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
} as const;

/**
 * The wait before in-attempt retry number `retry` (0 for the first):
 * what Retry-After asked for, else an exponential backoff. Undefined
 * when the attempt should end instead (Retry-After too long).
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  options: RetryDelayOptions = {},
): number | undefined {
  const {
    baseDelayMs = RETRY_DELAY_DEFAULTS.baseDelayMs,
    maxDelayMs = RETRY_DELAY_DEFAULTS.maxDelayMs,
    maxRetryAfterMs = RETRY_DELAY_DEFAULTS.maxRetryAfterMs,
  } = options;
  if (retryAfterMs !== undefined) {
    return retryAfterMs <= maxRetryAfterMs ? retryAfterMs : undefined;
  }
  return Math.min(baseDelayMs * 2 ** retry, maxDelayMs);
}
