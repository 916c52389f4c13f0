/** A condition that did not come true in time; names what was awaited. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  readonly code = "BENCH_WAIT_TIMEOUT";
}

/**
 * Polls `check` until it returns a value other than undefined, every
 * `intervalMs`, for at most `timeoutMs`. Benchmarks wait for conditions,
 * never for fixed times.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new WaitTimeoutError(
        `timed out after ${options.timeoutMs} ms waiting for ${what}`,
      );
    }
    await sleep(interval);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
