/** Default time between SIGTERM and SIGKILL when a task is stopped. */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/** The environment variable that overrides the kill grace period. */
export const KILL_GRACE_ENV = "DEERFLOW_KILL_GRACE_MS";

/**
 * The kill grace period: the explicit option, else `DEERFLOW_KILL_GRACE_MS`
 * from the agent's environment, else {@link DEFAULT_KILL_GRACE_MS}.
 */
export function resolveKillGraceMs(
  option: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (option !== undefined) return checkGrace("killGraceMs", option);
  const raw = env[KILL_GRACE_ENV];
  if (raw === undefined || raw === "") return DEFAULT_KILL_GRACE_MS;
  // Digits only: Number() would read " " as 0 and "0x10" as 16.
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  return checkGrace(KILL_GRACE_ENV, value, JSON.stringify(raw));
}

/**
 * The longest kill grace: an hour. Node's timers hold at most 2^31 - 1
 * ms (24.8 days) and fire at once past it, which would end the grace
 * before it began.
 */
export const MAX_KILL_GRACE_MS = 3_600_000;

function checkGrace(name: string, value: number, given = String(value)) {
  if (!Number.isInteger(value) || value < 0 || value > MAX_KILL_GRACE_MS) {
    throw new RangeError(
      `${name} must be a whole number of milliseconds from 0 to ${MAX_KILL_GRACE_MS}, got ${given}`,
    );
  }
  return value;
}
