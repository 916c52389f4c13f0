import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The PostgreSQL server scenarios make their databases on by default. */
export const DEFAULT_DATABASE_URL =
  "postgres://postgres@127.0.0.1:5432/postgres";

/** Where results go unless `--results-dir` says otherwise. */
export const DEFAULT_RESULTS_DIR = fileURLToPath(
  new URL("./results/", import.meta.url),
);

/** Settings of one `npm run bench`; sizes left unset use each scenario's. */
export interface BenchOptions {
  /** Scenario names to run, in order. */
  scenarios: string[];
  /** Small sizes and short phases: a smoke run that proves the harness. */
  quick: boolean;
  /** Measured repetitions of each measurement; default 3 (quick: 2). */
  repeat: number;
  /** Unmeasured warm-up rounds before them; default 1. */
  warmup: number;
  /**
   * Jobs in each warm-up round of throughput and peers, for Deer Flow and
   * every peer alike (capped at the N measured); default 5000 (quick:
   * 50). A round of a few hundred leaves the processes' code still
   * being compiled during the first measured repetition.
   */
  warmupTasks: number;
  /**
   * A postgres:// URL of a user that may create databases. Each scenario
   * makes a fresh database there (deerflow_bench_...) and drops it after.
   */
  databaseUrl: string;
  /** Run the control plane on PGlite where the scenario allows it. */
  pglite: boolean;
  /** N for throughput and peers; default 10000 and 50000 (quick: 200). */
  tasks: number[] | undefined;
  /** Length of the chain; default 1000 (quick: 30). */
  chainLength: number | undefined;
  /** Size of the wide definition; default 10000 (quick: 500). */
  wideTasks: number | undefined;
  /** Simulated agent counts; default 1000 and 5000 (quick: 40). */
  fleetAgents: number[] | undefined;
  /** Tasks run while the fleet is connected; default 2000 (quick: 40). */
  fleetTasks: number | undefined;
  /**
   * Simulated agents sharing one HTTP/2 connection; default 1 (each its
   * own, as separate hosts would). More tells connection costs apart
   * from session costs.
   */
  fleetAgentsPerConnection: number;
  /** Seconds of arrivals at each latency load level; default 15 (quick: 3). */
  latencySeconds: number | undefined;
  /** Agent processes for throughput, latency and chain; default 4. */
  agents: number;
  /** Slots of each agent process; default 4. */
  slots: number;
  /** Lease TTL of the failure scenario's control plane; default 5000 ms. */
  leaseTtlMs: number;
  /** A sample still running after this long is stopped and marked partial; default 300 s. */
  sampleTimeoutS: number;
  resultsDir: string;
  /** DEERFLOW_LOG_LEVEL of the control plane and agents; default "info". */
  logLevel: string;
  /** When set, the control plane runs with --cpu-prof into this directory. */
  cpuProfDir: string | undefined;
  /** When set, every agent process runs with --cpu-prof into this directory. */
  agentCpuProfDir: string | undefined;
  /** No progress lines. */
  quiet: boolean;
}

/** A bad command line; the message names the flag. */
export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
  readonly code = "BENCH_USAGE";
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

/**
 * Parses `npm run bench -- [SCENARIO...] [options]`. `known` lists the
 * scenario names; none given (or "all") means every one of them.
 */
export function parseBenchOptions(
  argv: readonly string[],
  known: readonly string[],
): BenchOptions {
  let parsed: ReturnType<typeof parseRaw>;
  try {
    parsed = parseRaw(argv);
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  const { values: v, positionals } = parsed;
  const quick = v.quick === true;
  return {
    scenarios: scenarioNames(positionals, known),
    quick,
    repeat: int("--repeat", v.repeat, 1, 100) ?? (quick ? 2 : 3),
    warmup: int("--warmup", v.warmup, 0, 10) ?? 1,
    warmupTasks:
      int("--warmup-tasks", v["warmup-tasks"], 1, 1_000_000) ??
      (quick ? 50 : 5000),
    databaseUrl: databaseUrl(v["database-url"] ?? DEFAULT_DATABASE_URL),
    pglite: v.pglite === true,
    tasks: intList("--tasks", v.tasks, 1, 1_000_000),
    chainLength: int("--chain-length", v["chain-length"], 2, 100_000),
    wideTasks: int("--wide-tasks", v["wide-tasks"], 1, 200_000),
    fleetAgents: intList("--fleet-agents", v["fleet-agents"], 1, 20_000),
    fleetTasks: int("--fleet-tasks", v["fleet-tasks"], 1, 1_000_000),
    fleetAgentsPerConnection:
      int(
        "--fleet-agents-per-connection",
        v["fleet-agents-per-connection"],
        1,
        20_000,
      ) ?? 1,
    latencySeconds: int("--latency-seconds", v["latency-seconds"], 1, 3600),
    agents: int("--agents", v.agents, 1, 64) ?? 4,
    slots: int("--slots", v.slots, 1, 1000) ?? 256,
    leaseTtlMs: int("--lease-ttl-ms", v["lease-ttl-ms"], 1000, 600_000) ?? 5000,
    sampleTimeoutS:
      int("--sample-timeout-s", v["sample-timeout-s"], 1, 86_400) ?? 300,
    resultsDir: resolve(v["results-dir"] ?? DEFAULT_RESULTS_DIR),
    logLevel: logLevel(v["log-level"] ?? "info"),
    cpuProfDir: v["cpu-prof-dir"] ? resolve(v["cpu-prof-dir"]) : undefined,
    agentCpuProfDir: v["agent-cpu-prof-dir"]
      ? resolve(v["agent-cpu-prof-dir"])
      : undefined,
    quiet: v.quiet === true,
  };
}

function parseRaw(argv: readonly string[]) {
  const text = { type: "string" } as const;
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      quick: { type: "boolean" },
      pglite: { type: "boolean" },
      quiet: { type: "boolean" },
      repeat: text,
      warmup: text,
      "warmup-tasks": text,
      "database-url": text,
      tasks: text,
      "chain-length": text,
      "wide-tasks": text,
      "fleet-agents": text,
      "fleet-tasks": text,
      "fleet-agents-per-connection": text,
      "latency-seconds": text,
      agents: text,
      slots: text,
      "lease-ttl-ms": text,
      "sample-timeout-s": text,
      "results-dir": text,
      "log-level": text,
      "cpu-prof-dir": text,
      "agent-cpu-prof-dir": text,
    },
  });
}

function scenarioNames(
  positionals: readonly string[],
  known: readonly string[],
): string[] {
  if (positionals.length === 0 || positionals.includes("all")) {
    return [...known];
  }
  for (const name of positionals) {
    if (!known.includes(name)) {
      throw new BenchUsageError(
        `SCENARIO: unknown scenario "${name}"; known: ${known.join(", ")}, all`,
      );
    }
  }
  return [...new Set(positionals)];
}

function int(
  flag: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw.replaceAll("_", ""));
  // Digits, optionally grouped with underscores: 50000 or 50_000.
  if (!/^\d+(_\d+)*$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new BenchUsageError(`${flag}: must be a whole number, got "${raw}"`);
  }
  if (value < min || value > max) {
    throw new BenchUsageError(
      `${flag}: must be between ${min} and ${max}, got ${value}`,
    );
  }
  return value;
}

function intList(
  flag: string,
  raw: string | undefined,
  min: number,
  max: number,
): number[] | undefined {
  if (raw === undefined) return undefined;
  const parts = raw.split(",").filter((p) => p.trim() !== "");
  if (parts.length === 0) {
    throw new BenchUsageError(`${flag}: must list at least one number`);
  }
  return parts.map((p) => int(flag, p.trim(), min, max) as number);
}

function databaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BenchUsageError(`--database-url: not a URL: "${raw}"`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new BenchUsageError(
      `--database-url: must be a postgres:// URL, got "${url.protocol}"`,
    );
  }
  return raw;
}

function logLevel(raw: string): string {
  if (!LOG_LEVELS.includes(raw)) {
    throw new BenchUsageError(
      `--log-level: must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`,
    );
  }
  return raw;
}
