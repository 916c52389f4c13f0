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
  return checkGrace(KILL_GRACE_ENV, Number(raw), JSON.stringify(raw));
}

function checkGrace(name: string, value: number, given = String(value)) {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be a whole number of milliseconds >= 0, got ${given}`,
    );
  }
  return value;
}
