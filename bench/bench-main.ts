/**
 * The benchmark harness: parses the command line, prints the machine,
 * runs each scenario with its own cleanup, and writes the results.
 */
import { createRequire } from "node:module";
import os from "node:os";
import {
  type BenchOptions,
  BenchUsageError,
  parseBenchOptions,
} from "./bench-options.js";
import { postgresVersion } from "./harness/bench-database.js";
import { killAllChildren } from "./harness/child-process.js";
import { Cleanup } from "./harness/cleanup.js";
import {
  describeMachine,
  describeRevision,
  formatMachine,
  type Machine,
  type Revision,
} from "./harness/machine.js";
import { type Progress, stderrProgress } from "./harness/progress.js";
import { metricsTable } from "./report/markdown-table.js";
import type { ResultFile } from "./report/result-file.js";
import { writeSummary } from "./report/summary-table.js";
import { writeScenarioResults } from "./report/write-results.js";
import type { Scenario } from "./scenario.js";
import { scenarios } from "./scenarios/index.js";

const USAGE = `usage: npm run bench -- [SCENARIO...|all] [options]

scenarios: ${scenarios.map((s) => s.name).join(", ")}

options:
  --quick                 smoke sizes (proves the harness; numbers not representative)
  --repeat N              measured repetitions (default 3, quick 2)
  --warmup N              unmeasured warm-up rounds (default 1)
  --warmup-tasks N        jobs in a throughput or peers warm-up round, for
                          Deer Flow and each peer alike (default 5000,
                          quick 50)
  --database-url URL      server to make deerflow_bench_* databases on
                          (default postgres://postgres@127.0.0.1:5432/postgres)
  --pglite                control plane on PGlite where the scenario allows it
  --tasks N[,N]           N of throughput and peers (default 10000,50000)
  --chain-length N        chain scenario (default 1000)
  --wide-tasks N          wide-dag scenario (default 10000)
  --fleet-agents N[,N]    simulated agents (default 1000,5000)
  --fleet-tasks N         tasks run while the fleet is connected (default 2000)
  --fleet-agents-per-connection N  simulated agents per HTTP/2 connection (default 1)
  --latency-seconds S     arrivals per latency load level (default 15)
  --agents N --slots N    agent processes and slots each (default 4 and 256)
  --lease-ttl-ms MS       lease TTL of the failure scenario (default 5000)
  --sample-timeout-s S    stop and mark partial a sample past this (default 300)
  --results-dir DIR       where results go (default bench/results)
  --log-level LEVEL       DEERFLOW_LOG_LEVEL of server and agents (default info)
  --cpu-prof-dir DIR      run the control plane with node --cpu-prof
  --agent-cpu-prof-dir DIR  run the agents with node --cpu-prof
  --quiet                 no progress lines
`;

/** Runs the scenarios the command line names; resolves to an exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchOptions(
      argv,
      scenarios.map((s) => s.name),
    );
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  const progress = stderrProgress(options.quiet);
  const needsPostgres = options.scenarios.some(
    (name) =>
      !options.pglite || !scenarios.find((s) => s.name === name)?.pglite,
  );
  const machine = await machineFacts(options, needsPostgres);
  // Read once, before any scenario writes its results into the checkout
  // (bench/results is tracked): later scenarios would see it modified.
  const revision = describeRevision();
  process.stdout.write(`${formatMachine(machine)}\n\n`);
  let failed = 0;
  for (const name of options.scenarios) {
    const scenario = scenarios.find((s) => s.name === name) as Scenario;
    const ok = await runScenario(scenario, options, {
      machine,
      revision,
      progress,
      argv,
    });
    if (!ok) failed += 1;
  }
  const skipped = await writeSummary(options.resultsDir);
  for (const line of skipped) {
    process.stderr.write(`bench: summary skipped ${line}\n`);
  }
  process.stdout.write(
    `results in ${options.resultsDir} (README-table.md sums them up)\n`,
  );
  return failed > 0 ? 1 : 0;
}

async function machineFacts(
  options: BenchOptions,
  needsPostgres: boolean,
): Promise<Machine> {
  let pg = "not used";
  if (needsPostgres) {
    try {
      pg = await postgresVersion(options.databaseUrl);
    } catch (error) {
      pg = `unreachable (${(error as Error).message})`;
    }
  }
  const machine = describeMachine(pg);
  if (options.pglite) machine.pglite = packageVersion("@electric-sql/pglite");
  return machine;
}

/** The installed version of a package, read from its package.json. */
export function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

let current: Cleanup | undefined;

/** What every scenario of one command shares. */
interface RunContext {
  machine: Machine;
  revision: Revision;
  progress: Progress;
  argv: readonly string[];
}

async function runScenario(
  scenario: Scenario,
  options: BenchOptions,
  { machine, revision, progress, argv }: RunContext,
): Promise<boolean> {
  const cleanup = new Cleanup();
  current = cleanup;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100);
  progress.info("scenario starting", {
    scenario: scenario.name,
    load_average: loadAverage,
  });
  const scenarioOptions =
    options.pglite && !scenario.pglite
      ? { ...options, pglite: false }
      : options;
  try {
    const result = await scenario.run({
      options: scenarioOptions,
      progress,
      cleanup,
    });
    const errors = await cleanup.runAll();
    for (const e of errors)
      progress.info("cleanup failed", { error: e.message });
    const notes = [...result.notes];
    if (options.pglite && !scenario.pglite) {
      notes.push("Ran on PostgreSQL: PGlite does not fit this scenario.");
    }
    const file: ResultFile = {
      scenario: scenario.name,
      title: scenario.title,
      description: scenario.description,
      date: startedAt,
      durationS: (performance.now() - started) / 1000,
      revision,
      machine: { ...machine, ...result.machine, loadAverage },
      harness: {
        quick: options.quick,
        repeat: options.repeat,
        warmup: options.warmup,
        command: `npm run bench -- ${argv.join(" ")}`.trim(),
      },
      parameters: result.parameters,
      metrics: result.metrics,
      notes,
      raw: result.raw,
    };
    const written = await writeScenarioResults(options.resultsDir, file);
    process.stdout.write(
      `## ${scenario.title}\n\n${metricsTable(file.metrics)}\n\n` +
        `${notes.map((n) => `- ${n}\n`).join("")}` +
        `written: ${written.json}, ${written.markdown}, ${written.png}\n\n`,
    );
    return true;
  } catch (error) {
    const errors = await cleanup.runAll();
    process.stderr.write(
      `bench: scenario ${scenario.name} failed: ${(error as Error).stack ?? String(error)}\n`,
    );
    for (const e of errors) process.stderr.write(`bench: ${e.message}\n`);
    return false;
  } finally {
    current = undefined;
  }
}

/**
 * Undoes what the scenario running now started (on Ctrl-C), then
 * SIGKILLs any child process still left.
 */
export async function stopCurrentScenario(): Promise<void> {
  await current?.runAll();
  await killAllChildren();
}
