import { resolveKillGraceMs } from "../plugins/process/kill-grace.js";

/**
 * How long a plugin may take to stop after its signal aborts: 30 s, or
 * longer when DEERFLOW_KILL_GRACE_MS gives the built-in plugins' process
 * trees longer between SIGTERM and SIGKILL. The result of an attempt
 * abandoned sooner would free its task for a retry while its processes
 * still ran.
 */
export function attemptAbortGraceMs(
  env: NodeJS.ProcessEnv = process.env,
): number {
  const killGraceMs = resolveKillGraceMs(undefined, env);
  return Math.max(MIN_ABORT_GRACE_MS, killGraceMs + KILL_MARGIN_MS);
}
const MIN_ABORT_GRACE_MS = 30_000;
/** Time after the SIGKILL for the tree to go and the plugin to return. */
const KILL_MARGIN_MS = 5_000;
