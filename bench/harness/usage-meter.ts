import { readdirSync, readFileSync } from "node:fs";
import { ProcSampler, readProc } from "./proc-sampler.js";

/** Where the CPU went while something was measured. */
export interface Usage {
  /** The control-plane process, in percent of one core. */
  controlPlaneCpuPercent: number;
  controlPlaneRssMaxMiB: number;
  /** All agent processes together, in percent of one core. */
  agentsCpuPercent: number;
  /**
   * PostgreSQL's backends serving the scenario's database, in percent of
   * one core (NaN on PGlite or when they cannot be seen in /proc).
   */
  postgresCpuPercent: number;
  /** The whole machine (PostgreSQL included), in percent of all cores. */
  machineBusyPercent: number;
}

/** Busy and total jiffies of all cores, from /proc/stat. */
function machineTimes(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "latin1").split("\n")[0] ?? "";
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th numbers.
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of each PostgreSQL backend serving `database`, found by
 * the process title PostgreSQL gives them ("postgres: USER DATABASE
 * HOST(PORT) STATE"). Only reads /proc.
 */
function postgresBackends(database: string): Map<number, number> {
  const found = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return found;
  }
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, "latin1");
      if (!title.startsWith("postgres: ") || !title.includes(` ${database} `)) {
        continue;
      }
      const seconds = readProc(Number(pid))?.cpuSeconds;
      if (seconds !== undefined) found.set(Number(pid), seconds);
    } catch {
      // The process ended while being read.
    }
  }
  return found;
}

/**
 * Measures CPU use of the control plane, the agents and the machine from
 * `start` until `stop`, and the control plane's peak RSS (sampled every
 * 250 ms). Reads only /proc; it adds no load worth counting.
 */
export class UsageMeter {
  private readonly sampler: ProcSampler;
  private readonly startedAt = performance.now();
  private readonly agentsStart: number;
  private readonly machineStart = machineTimes();

  private readonly postgresStart: Map<number, number>;

  /**
   * `database` names the scenario's PostgreSQL database, whose backends
   * are measured too; undefined on PGlite.
   */
  constructor(
    controlPlanePid: number,
    private readonly agentPids: readonly number[],
    private readonly database?: string | undefined,
  ) {
    this.sampler = new ProcSampler(controlPlanePid);
    this.agentsStart = this.agentCpuSeconds();
    this.postgresStart = database ? postgresBackends(database) : new Map();
  }

  stop(): Usage {
    this.sampler.stop();
    const endedAt = performance.now();
    const seconds = (endedAt - this.startedAt) / 1000;
    const cp = this.sampler.window(this.startedAt, endedAt);
    const machineEnd = machineTimes();
    const machine =
      this.machineStart && machineEnd
        ? ((machineEnd.busy - this.machineStart.busy) /
            Math.max(1, machineEnd.total - this.machineStart.total)) *
          100
        : Number.NaN;
    return {
      controlPlaneCpuPercent: cp.cpuPercent,
      controlPlaneRssMaxMiB: cp.rssMaxBytes / 1024 ** 2,
      agentsCpuPercent:
        seconds > 0
          ? ((this.agentCpuSeconds() - this.agentsStart) / seconds) * 100
          : Number.NaN,
      machineBusyPercent: machine,
      postgresCpuPercent: this.postgresCpuPercent(seconds),
    };
  }

  /** Backends born during the window count from zero; ended ones are lost. */
  private postgresCpuPercent(seconds: number): number {
    if (!this.database || seconds <= 0) return Number.NaN;
    const end = postgresBackends(this.database);
    if (end.size === 0) return Number.NaN;
    let used = 0;
    for (const [pid, cpu] of end)
      used += cpu - (this.postgresStart.get(pid) ?? 0);
    return (used / seconds) * 100;
  }

  private agentCpuSeconds(): number {
    let total = 0;
    for (const pid of this.agentPids) total += readProc(pid)?.cpuSeconds ?? 0;
    return total;
  }
}
