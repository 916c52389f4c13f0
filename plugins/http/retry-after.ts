/**
 * Milliseconds a Retry-After header asks to wait: either delay-seconds or
 * an HTTP date (measured from `nowMs`). Undefined when absent or
 * unparseable; a date in the past is 0.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  // Date.parse takes nearly anything ("-5" is a year); an HTTP date has
  // a name (day, month or zone) and a time of day.
  if (!/[A-Za-z]/.test(text) || !/\d\d:\d\d:\d\d/.test(text)) {
    return undefined;
  }
  const dateMs = Date.parse(text);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}
