import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** The machine a benchmark ran on, printed and kept with every result. */
export interface Machine {
  cpuModel: string;
  /** Logical cores the OS reports. */
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  /** PostgreSQL's server_version, or "not used". */
  postgres: string;
  /** PGlite's package version, when a scenario ran on it. */
  pglite?: string | undefined;
  /** Redis's version, when the peers scenario ran BullMQ. */
  redis?: string | undefined;
  /**
   * The 1, 5 and 15 minute load averages when the scenario started: on a
   * shared machine, a high load means noisy numbers.
   */
  loadAverage?: number[] | undefined;
}

/** Where the measured code came from. */
export interface Revision {
  commit: string;
  /** Uncommitted changes were present (others may share the checkout). */
  dirty: boolean;
}

/** Reads the machine's facts; `postgres` comes from the caller. */
export function describeMachine(postgres: string): Machine {
  return {
    cpuModel: cpuModel(),
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
  };
}

function cpuModel(): string {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1];
    if (model) return model.trim();
  } catch {
    // Not Linux; os.cpus() knows it too.
  }
  return os.cpus()[0]?.model ?? "unknown";
}

/**
 * The checkout's commit and whether it has uncommitted changes, results
 * aside: a run of several scenarios writes bench/results/ after the
 * first, and the code measured is no different for it.
 */
export function describeRevision(cwd = process.cwd()): Revision {
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  try {
    return {
      commit: git("rev-parse", "HEAD"),
      dirty:
        git(
          "status",
          "--porcelain",
          "--",
          ":(top)",
          ":(top,exclude)bench/results",
        ).length > 0,
    };
  } catch {
    return { commit: "unknown", dirty: false };
  }
}

/** One line per fact, for the console. */
export function formatMachine(machine: Machine): string {
  const gib = (machine.memoryBytes / 1024 ** 3).toFixed(1);
  return [
    `CPU:        ${machine.cpuModel} (${machine.cores} cores)`,
    `RAM:        ${gib} GiB`,
    `OS:         ${machine.os}`,
    `Node:       ${machine.node}`,
    `PostgreSQL: ${machine.postgres}`,
    ...(machine.pglite ? [`PGlite:     ${machine.pglite}`] : []),
    ...(machine.redis ? [`Redis:      ${machine.redis}`] : []),
  ].join("\n");
}
