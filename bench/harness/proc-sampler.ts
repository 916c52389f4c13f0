import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** One reading of a process's CPU time and resident memory. */
export interface ProcSample {
  /** performance.now() of the harness when read. */
  atMs: number;
  /** User plus system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU and memory of a process over a stretch of time. */
export interface ProcWindow {
  /** Mean CPU use, in percent of one core (200 = two cores busy). */
  cpuPercent: number;
  rssMaxBytes: number;
  rssMeanBytes: number;
  samples: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(
        execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim(),
      );
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Reads /proc/PID/stat and /proc/PID/status once; undefined once gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
    return {
      atMs: performance.now(),
      cpuSeconds: (utime + stime) / clockTicks(),
      rssBytes: rssKb * 1024,
    };
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's CPU and RSS from /proc every `intervalMs` (default
 * 250) until stopped. Linux only; elsewhere it records nothing.
 */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 250,
  ) {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
    this.timer.unref();
  }

  /** Takes a reading now (also marks a phase boundary precisely). */
  take(): ProcSample | undefined {
    const sample = readProc(this.pid);
    if (sample) this.samples.push(sample);
    return sample;
  }

  stop(): void {
    clearInterval(this.timer);
    this.take();
  }

  /** CPU and RSS between two harness times (performance.now()). */
  window(fromMs: number, toMs: number): ProcWindow {
    const inside = this.samples.filter(
      (s) => s.atMs >= fromMs && s.atMs <= toMs,
    );
    const first = inside[0];
    const last = inside.at(-1);
    const rss = inside.map((s) => s.rssBytes);
    const elapsed = first && last ? (last.atMs - first.atMs) / 1000 : 0;
    return {
      cpuPercent:
        first && last && elapsed > 0
          ? ((last.cpuSeconds - first.cpuSeconds) / elapsed) * 100
          : Number.NaN,
      rssMaxBytes: rss.length > 0 ? Math.max(...rss) : Number.NaN,
      rssMeanBytes:
        rss.length > 0
          ? rss.reduce((a, b) => a + b, 0) / rss.length
          : Number.NaN,
      samples: inside.length,
    };
  }
}
