import { setTimeout as sleep } from "node:timers/promises";
import {
  findMarkedProcesses,
  isProcessGroupAlive,
  type ProcessSelector,
  signalProcesses,
  signalProcessGroup,
} from "./process-group.js";

/** How often a stopping process tree is checked for survivors. */
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
  /**
   * An environment entry (`DEERFLOW_WORK_DIR=...`) every process of the
   * attempt inherited; those carrying it are stopped too, also when they
   * left the process group.
   */
  marker?: string | undefined;
}

/**
 * Stops everything an attempt started: its process group, and every
 * process carrying its marker. SIGTERM first, then SIGKILL to whatever is
 * still there after the grace period. Resolves once nothing is left (or
 * SIGKILL had its time to act).
 *
 * The task was started as the leader of its own group, so background
 * children (`sleep 1000 &`) share the group. A child that calls setsid()
 * leaves the group but keeps the attempt's environment, so the marker
 * finds it. Only a process that also clears its environment escapes;
 * a cgroup per attempt would catch that one too.
 */
export async function killProcessTree(
  pgid: number,
  options: KillProcessTreeOptions,
): Promise<void> {
  await signalTree(pgid, options.marker, "SIGTERM");
  if (await waitForTreeExit(pgid, options.marker, options.graceMs)) return;
  await signalTree(pgid, options.marker, "SIGKILL");
  await waitForTreeExit(pgid, options.marker, KILL_SETTLE_MS);
}

/** Whether any process of the attempt is alive. */
export async function isTreeAlive(
  pgid: number,
  marker: string | undefined,
): Promise<boolean> {
  if (await isProcessGroupAlive(pgid)) return true;
  return marker !== undefined && (await findMarkedProcesses(marker)).length > 0;
}

async function signalTree(
  pgid: number,
  marker: string | undefined,
  signal: NodeJS.Signals,
): Promise<void> {
  signalProcessGroup(pgid, signal);
  // Only those that left the group: a process signalled twice may take
  // the second TERM for "stop now, skip the clean shutdown".
  if (marker !== undefined) {
    signalProcesses(await findMarkedProcesses(marker, undefined, pgid), signal);
  }
}

async function waitForTreeExit(
  pgid: number,
  marker: string | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isTreeAlive(pgid, marker))) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(POLL_INTERVAL_MS, left));
  }
}

/**
 * Stops every live process carrying `marker` in its environment (that
 * `select` picks, if given): TERM, then KILL after the grace period.
 * Returns how many there were.
 */
export async function killMarkedProcesses(
  marker: string,
  options: { graceMs: number; select?: ProcessSelector | undefined },
): Promise<number> {
  const { select } = options;
  const found = await findMarkedProcesses(marker, select);
  if (found.length === 0) return 0;
  signalProcesses(found, "SIGTERM");
  if (await waitForMarkedExit(marker, select, options.graceMs)) {
    return found.length;
  }
  signalProcesses(await findMarkedProcesses(marker, select), "SIGKILL");
  await waitForMarkedExit(marker, select, KILL_SETTLE_MS);
  return found.length;
}

async function waitForMarkedExit(
  marker: string,
  select: ProcessSelector | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await findMarkedProcesses(marker, select)).length === 0) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(POLL_INTERVAL_MS, left));
  }
}
