import { readdir, readFile } from "node:fs/promises";

/**
 * Finds the processes a run's tasks started, wherever they ended up: every
 * task process inherits `DEERFLOW_RUN_ID` from its agent, so a live
 * process whose environment holds the run's id belongs to the run's task
 * trees — also one that left its process group or lost its agent. (A
 * process that rewrites its own environment would escape this; the tests'
 * commands do not.) With `taskId`, only that task's processes. Needs
 * Linux /proc.
 */
export async function processesOfRun(
  runId: string,
  taskId?: string,
): Promise<number[]> {
  const wanted = `DEERFLOW_RUN_ID=${runId}`;
  const task = taskId === undefined ? undefined : `DEERFLOW_TASK_ID=${taskId}`;
  const found: number[] = [];
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    throw new Error("processesOfRun needs /proc (Linux)");
  }
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const [environ, stat] = await Promise.all([
      readFile(`/proc/${name}/environ`, "latin1").catch(() => ""),
      readFile(`/proc/${name}/stat`, "latin1").catch(() => ""),
    ]);
    const variables = environ.split("\0");
    if (!variables.includes(wanted)) continue;
    if (task !== undefined && !variables.includes(task)) continue;
    // Zombies are gone but for their exit status; they count as dead.
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    if (state !== "Z" && state !== undefined && state !== "") {
      found.push(Number(name));
    }
  }
  return found;
}

const tracked = new Set<string>();

/**
 * Remembers a run whose task processes {@link killTrackedRunProcesses}
 * must kill after the test (an agent killed with SIGKILL leaves its
 * attempts' processes behind).
 */
export function trackRunProcesses(runId: string): void {
  tracked.add(runId);
}

/**
 * SIGKILLs every live process of the tracked runs, until none is left,
 * and forgets the runs. Call it in afterEach.
 */
export async function killTrackedRunProcesses(): Promise<void> {
  for (const runId of tracked) {
    for (let round = 0; round < 20; round += 1) {
      const pids = await processesOfRun(runId);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // It ended between the look and the kill.
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  tracked.clear();
}
