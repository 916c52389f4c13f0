import { Code, ConnectError } from "@connectrpc/connect";
import {
  type DeerFlowSystem,
  startDeerFlow,
  startRun,
  waitForRunEnd,
} from "../harness/deer-flow-system.js";
import { independentNoops } from "../harness/definitions.js";
import { metric } from "../harness/metric.js";
import { round } from "../harness/round.js";
import type { Usage } from "../harness/usage-meter.js";
import { UsageMeter } from "../harness/usage-meter.js";
import type { Scenario, ScenarioContext } from "../scenario.js";

/** One timed run of N no-op tasks. */
export interface ThroughputSample {
  tasks: number;
  /** From just before StartRun until the harness saw the run end. */
  elapsedMs: number;
  /** How long StartRun took to answer (validate and store). */
  submitMs: number;
  /** Tasks per second end to end (partial when timed out). */
  tasksPerSecond: number;
  state: string;
  /** The run did not end within --sample-timeout-s and was cancelled. */
  timedOut: boolean;
  /** Tasks that had succeeded (all of them unless timed out). */
  succeeded: number;
  usage: Usage;
}

/**
 * Submits one run of `count` no-op tasks and times it from the submit to
 * the last result recorded (the run's SUCCESS).
 */
export async function timeNoopRun(
  system: DeerFlowSystem,
  count: number,
  timeoutMs: number,
): Promise<ThroughputSample> {
  const meter = new UsageMeter(
    system.server.pid,
    system.agents.map((a) => a.child.pid),
    system.database.name,
  );
  const started = performance.now();
  let runId: string;
  try {
    runId = await startRun(
      system.clients,
      independentNoops(`throughput-${count}`, count),
      timeoutMs,
    );
  } catch (error) {
    if (ConnectError.from(error).code !== Code.DeadlineExceeded) throw error;
    const elapsedMs = performance.now() - started;
    return {
      tasks: count,
      elapsedMs,
      submitMs: elapsedMs,
      tasksPerSecond: 0,
      state: "NOT_SUBMITTED",
      timedOut: true,
      succeeded: 0,
      usage: meter.stop(),
    };
  }
  const submitMs = performance.now() - started;
  const end = await waitForRunEnd(system, runId, timeoutMs);
  const usage = meter.stop();
  const elapsedMs = end.seenAtMs - started;
  const succeeded = end.timedOut ? (end.succeeded ?? 0) : count;
  return {
    tasks: count,
    elapsedMs,
    submitMs,
    tasksPerSecond: succeeded / (elapsedMs / 1000),
    state: end.state,
    timedOut: end.timedOut,
    succeeded,
    usage,
  };
}

/** Issue 6, scenario 1. */
export const throughputScenario: Scenario = {
  name: "throughput",
  title: "Throughput: N no-op tasks on agent processes",
  description:
    "One run of N independent no-op tasks, submitted with StartRun to a " +
    "control-plane process, run by agent processes connected over gRPC " +
    "(4 by default, 256 slots each). Tasks per second from just before the " +
    "submit until the harness sees the run SUCCESS (every result " +
    "recorded). The run's state is polled every 20 ms straight from " +
    "PostgreSQL (the API on PGlite). Also records the submit time and the " +
    "CPU of the control plane, the agents, PostgreSQL's backends for the " +
    "scenario's database, and the whole machine (which, when shared, " +
    "includes other work: see the load average).",
  pglite: true,
  run: runThroughput,
};

async function runThroughput(ctx: ScenarioContext) {
  const { options, progress } = ctx;
  const sizes = options.tasks ?? (options.quick ? [200] : [10_000, 50_000]);
  const timeoutMs = options.sampleTimeoutS * 1000;
  const system = await startDeerFlow(ctx);
  const warmupSize = Math.min(options.warmupTasks, Math.min(...sizes));
  for (let i = 0; i < options.warmup; i += 1) {
    const w = await timeNoopRun(system, warmupSize, timeoutMs);
    progress.info("warm-up", {
      tasks: warmupSize,
      tasks_per_s: round(w.tasksPerSecond),
    });
  }
  const samples: ThroughputSample[] = [];
  const notes: string[] = [];
  let stopped = false;
  for (const size of sizes) {
    if (stopped) {
      notes.push(
        `N=${size} not measured: a smaller N already ran past --sample-timeout-s (${options.sampleTimeoutS} s).`,
      );
      continue;
    }
    for (let r = 0; r < options.repeat; r += 1) {
      const sample = await timeNoopRun(system, size, timeoutMs);
      samples.push(sample);
      progress.info("sample", {
        tasks: size,
        repetition: r + 1,
        tasks_per_s: round(sample.tasksPerSecond),
        elapsed_s: round(sample.elapsedMs / 1000),
        state: sample.state,
      });
      if (sample.state === "NOT_SUBMITTED") {
        notes.push(
          `N=${size}: StartRun did not answer within ${options.sampleTimeoutS} s, ` +
            "so no task ran (see the wide-dag scenario: validation grows " +
            "with the square of the task count). No rate is recorded.",
        );
        samples.pop();
        stopped = true;
        break;
      }
      if (sample.timedOut) {
        notes.push(
          `N=${size}: the run did not end within ${options.sampleTimeoutS} s ` +
            `after StartRun answered (${Math.round(sample.submitMs / 1000)} s); ` +
            `${sample.succeeded} tasks had succeeded, so the rate is partial ` +
            "(tasks done over the time from submit). The run was cancelled " +
            "and no more repetitions were taken.",
        );
        stopped = true;
        break;
      }
    }
  }
  return {
    parameters: {
      tasks: sizes,
      agents: options.agents,
      slots_per_agent: options.slots,
      database: system.database.kind,
      repeat: options.repeat,
      warmup: options.warmup,
      warmup_tasks: warmupSize,
      log_level: options.logLevel,
    },
    metrics: sizes.flatMap((size) => {
      const of = samples.filter((s) => s.tasks === size);
      if (of.length === 0) return [];
      const partial = of.some((s) => s.timedOut);
      return [
        metric({
          name: `throughput, N=${size}`,
          unit: "tasks/s",
          better: "higher",
          samples: of.map((s) => s.tasksPerSecond),
          target: { op: ">=", value: 5000, text: "at least 5,000 tasks/s" },
          note: partial
            ? "partial: timed out, rate over the tasks done"
            : undefined,
        }),
        metric({
          name: `submit (StartRun), N=${size}`,
          unit: "ms",
          better: "lower",
          samples: of.map((s) => s.submitMs),
        }),
        metric({
          name: `control-plane CPU, N=${size}`,
          unit: "% of one core",
          better: "lower",
          samples: of.map((s) => s.usage.controlPlaneCpuPercent),
        }),
        metric({
          name: `agents' CPU, N=${size}`,
          unit: "% of one core",
          better: "lower",
          samples: of.map((s) => s.usage.agentsCpuPercent),
        }),
        // PGlite runs inside the control plane; there are no backends.
        ...(system.database.kind === "postgres"
          ? [
              metric({
                name: `PostgreSQL backends' CPU, N=${size}`,
                unit: "% of one core",
                better: "lower",
                samples: of.map((s) => s.usage.postgresCpuPercent),
              }),
            ]
          : []),
        metric({
          name: `machine busy, N=${size}`,
          unit: "% of all cores",
          better: "lower",
          samples: of.map((s) => s.usage.machineBusyPercent),
        }),
      ];
    }),
    raw: { samples },
    notes,
  };
}
