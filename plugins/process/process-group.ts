import { readdir, readFile } from "node:fs/promises";

/**
 * Sends a signal to every process in a process group. A group that no
 * longer exists is not an error: the work is already done.
 */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * Whether a process group still has a member that is not a zombie.
 *
 * `kill(-pgid, 0)` alone is not enough: an orphan reparented to an init
 * that never reaps (as in some sandboxes) stays a zombie in the group
 * forever. Where /proc exists the members are read from it; elsewhere the
 * answer falls back to `kill(-pgid, 0)`.
 */
export async function isProcessGroupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: a member exists that we may not signal; count it as alive.
    return true;
  }
  const entries = await readProcEntries();
  if (entries === undefined) return true;
  for (const pid of entries) {
    const stat = await readStat(pid);
    if (stat?.pgid === pgid && stat.state !== "Z") return true;
  }
  return false;
}

/**
 * Whether a process exists and is not a zombie. Tests use it to show that
 * nothing a killed task started survives.
 */
export async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = await readStat(String(pid));
  if (stat === undefined) {
    return (await readProcEntries()) === undefined;
  }
  return stat.state !== "Z";
}

interface ProcStat {
  state: string;
  pgid: number;
}

async function readProcEntries(): Promise<string[] | undefined> {
  try {
    const names = await readdir("/proc");
    return names.filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
}

async function readStat(pid: string): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after
  // the last ")". They are: state, ppid, pgrp, ...
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const pgid = Number(fields[2]);
  if (state === undefined || !Number.isInteger(pgid)) return undefined;
  return { state, pgid };
}

/**
 * Picks, by its environment entries ("NAME=value"), which of the marked
 * processes to take.
 */
export type ProcessSelector = (
  environment: readonly string[],
) => boolean | Promise<boolean>;

/**
 * Live processes whose environment holds `marker` (one `NAME=value`
 * entry). Every process an attempt starts inherits the attempt's
 * `DEERFLOW_WORK_DIR`, also one that left its process group with
 * setsid(), so this finds what a group kill alone would miss. With
 * `select`, only those it picks; with `outsideGroup`, only those a signal
 * to that group misses. Linux only; elsewhere it finds nothing.
 */
export async function findMarkedProcesses(
  marker: string,
  select?: ProcessSelector,
  /** Leaves out the members of this process group. */
  outsideGroup?: number,
): Promise<number[]> {
  const entries = await readProcEntries();
  if (entries === undefined) return [];
  const found: number[] = [];
  for (const pid of entries) {
    if (Number(pid) === process.pid) continue;
    let environ: string;
    try {
      environ = await readFile(`/proc/${pid}/environ`, "utf8");
    } catch {
      continue;
    }
    const environment = environ.split("\0");
    if (!environment.includes(marker)) continue;
    if (select !== undefined && !(await select(environment))) continue;
    const stat = await readStat(pid);
    if (stat && stat.state !== "Z" && stat.pgid !== outsideGroup) {
      found.push(Number(pid));
    }
  }
  return found;
}

/** Sends a signal to each process, ignoring those already gone. */
export function signalProcesses(
  pids: readonly number[],
  signal: NodeJS.Signals,
): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already, or not ours to signal.
    }
  }
}
