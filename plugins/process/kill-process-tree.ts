import { setTimeout as sleep } from "node:timers/promises";
import { isProcessGroupAlive, signalProcessGroup } from "./process-group.js";

/** How often a stopping process group is checked for survivors. */
const POLL_INTERVAL_MS = 50;
/**
 * How long to wait for SIGKILL to take effect. A process stuck in an
 * uninterruptible sleep can outlast it; nothing more can be done then.
 */
const KILL_SETTLE_MS = 5_000;

/** Options of {@link killProcessTree}. */
export interface KillProcessTreeOptions {
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
}

/**
 * Stops a whole process group: SIGTERM to every member, then SIGKILL to
 * whatever is still there after the grace period. Resolves once no live
 * member is left (or SIGKILL had its time to act).
 *
 * The task was started as the leader of its own group, so the group id is
 * the leader's pid and background children (`sleep 1000 &`) share it. A
 * child that calls setsid() leaves the group and escapes this; only a
 * cgroup per attempt would catch those.
 */
export async function killProcessTree(
  pgid: number,
  options: KillProcessTreeOptions,
): Promise<void> {
  signalProcessGroup(pgid, "SIGTERM");
  if (await waitForGroupExit(pgid, options.graceMs)) return;
  signalProcessGroup(pgid, "SIGKILL");
  await waitForGroupExit(pgid, KILL_SETTLE_MS);
}

async function waitForGroupExit(
  pgid: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isProcessGroupAlive(pgid))) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(POLL_INTERVAL_MS, left));
  }
}
