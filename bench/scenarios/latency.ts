import {
  type DeerFlowSystem,
  startDeerFlow,
  startRun,
} from "../harness/deer-flow-system.js";
import { independentNoops } from "../harness/definitions.js";
import { type Metric, metric } from "../harness/metric.js";
import { round } from "../harness/round.js";
import { firstTime, readRunEvents } from "../harness/run-history.js";
import { percentiles } from "../harness/stats.js";
import { sleep, waitFor } from "../harness/wait-for.js";
import type { Scenario, ScenarioContext } from "../scenario.js";

/** The load levels, as fractions of the measured maximum rate. */
const LEVELS = [0.25, 0.5, 0.75] as const;
/** StartRun calls in flight at once while finding the maximum. */
const SATURATING_CONCURRENCY = 32;

type Percentiles = ReturnType<typeof percentiles>;

/** One repetition of one load level. */
interface LevelSample {
  fraction: number;
  /** Runs per second the harness aimed for, and what it achieved. */
  targetRate: number;
  achievedRate: number;
  runs: number;
  queuedToRunningMs: Percentiles;
  queuedToAssignedMs: Percentiles;
  submitToSuccessMs: Percentiles;
}

const single = independentNoops("latency", 1);

/** Submits runs as fast as `concurrency` callers can; runs/s to all done. */
async function maximumRate(
  system: DeerFlowSystem,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  const ids: string[] = [];
  let next = 0;
  const caller = async () => {
    while (next < count) {
      next += 1;
      ids.push(await startRun(system.clients, single));
    }
  };
  await Promise.all(
    Array.from({ length: SATURATING_CONCURRENCY }, () => caller()),
  );
  await waitForEnded(system, ids, timeoutMs);
  return count / ((performance.now() - started) / 1000);
}

async function waitForEnded(
  system: DeerFlowSystem,
  ids: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `${ids.length} single-task runs to end`,
    async () =>
      (await system.probe.endedCount(ids)) >= ids.length ? true : undefined,
    { timeoutMs, intervalMs: Math.max(50, system.probe.intervalMs) },
  );
}

/**
 * Submits single-task runs at a fixed rate (open loop: a slow answer
 * does not delay the next submit) for `seconds`, waits for all of them,
 * then reads each run's stored events.
 */
async function offerLoad(
  system: DeerFlowSystem,
  fraction: number,
  rate: number,
  seconds: number,
  timeoutMs: number,
): Promise<LevelSample> {
  const count = Math.max(5, Math.round(rate * seconds));
  const intervalMs = 1000 / rate;
  const started = performance.now();
  const submits: Promise<string>[] = [];
  for (let i = 0; i < count; i += 1) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    submits.push(startRun(system.clients, single));
  }
  const ids = await Promise.all(submits);
  const offeredS = (performance.now() - started) / 1000;
  await waitForEnded(system, ids, timeoutMs);
  const queued: number[] = [];
  const assigned: number[] = [];
  const total: number[] = [];
  await forEachLimited(ids, 8, async (id) => {
    const events = await readRunEvents(system.clients, id);
    const q = firstTime(events, "t0", "QUEUED");
    queued.push(firstTime(events, "t0", "RUNNING") - q);
    assigned.push(firstTime(events, "t0", "ASSIGNED") - q);
    total.push(
      firstTime(events, "t0", "SUCCESS") - firstTime(events, "", "PENDING"),
    );
  });
  return {
    fraction,
    targetRate: rate,
    achievedRate: count / offeredS,
    runs: count,
    queuedToRunningMs: percentiles(queued.filter(Number.isFinite)),
    queuedToAssignedMs: percentiles(assigned.filter(Number.isFinite)),
    submitToSuccessMs: percentiles(total.filter(Number.isFinite)),
  };
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await each(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, () => worker()));
}

/** Issue 6, scenario 2. */
export const latencyScenario: Scenario = {
  name: "latency",
  title: "Latency: single-task runs at fixed arrival rates",
  description:
    "First the maximum rate: single-task no-op runs are submitted by 32 " +
    "concurrent callers, and the rate is runs divided by the time until " +
    "all have ended. Then, for 25%, 50% and 75% of that rate, runs are " +
    "submitted open-loop at a fixed interval for a fixed time. From each " +
    "run's stored events: QUEUED → RUNNING (dispatch: claim, send, the " +
    "agent's acknowledgement), QUEUED → ASSIGNED, and submit → SUCCESS " +
    "(the run's PENDING event, written by StartRun, to the task's " +
    "SUCCESS); p50, p95 and p99 per repetition, medians across them.",
  pglite: true,
  run: runLatency,
};

async function runLatency(ctx: ScenarioContext) {
  const { options, progress } = ctx;
  const seconds = options.latencySeconds ?? (options.quick ? 3 : 15);
  const saturate = options.quick ? 60 : 150;
  const timeoutMs = options.sampleTimeoutS * 1000;
  const system = await startDeerFlow(ctx);
  for (let i = 0; i < options.warmup; i += 1) {
    await maximumRate(system, Math.min(saturate, 40), timeoutMs);
  }
  const maxima: number[] = [];
  for (let r = 0; r < options.repeat; r += 1) {
    maxima.push(await maximumRate(system, saturate, timeoutMs));
    progress.info("maximum rate", { runs_per_s: round(maxima.at(-1) ?? 0) });
  }
  const maxRate = [...maxima].sort((a, b) => a - b)[
    Math.floor(maxima.length / 2)
  ] as number;
  const samples: LevelSample[] = [];
  for (const fraction of LEVELS) {
    for (let r = 0; r < options.repeat; r += 1) {
      const sample = await offerLoad(
        system,
        fraction,
        maxRate * fraction,
        seconds,
        timeoutMs,
      );
      samples.push(sample);
      progress.info("load level", {
        percent: fraction * 100,
        runs_per_s: round(sample.achievedRate),
        queued_to_running_p50_ms: round(sample.queuedToRunningMs.p50, 2),
        submit_to_success_p50_ms: round(sample.submitToSuccessMs.p50, 2),
      });
    }
  }
  return {
    parameters: {
      seconds_per_level: seconds,
      saturating_runs: saturate,
      levels: LEVELS.map((l) => `${l * 100}%`),
      agents: options.agents,
      slots_per_agent: options.slots,
      database: system.database.kind,
      repeat: options.repeat,
    },
    metrics: [
      metric({
        name: "maximum rate, single-task runs",
        unit: "runs/s",
        better: "higher",
        samples: maxima,
      }),
      ...LEVELS.flatMap((f) => levelMetrics(f, samples)),
    ],
    raw: { maxima, samples },
    notes: [],
  };
}

function levelMetrics(fraction: number, all: LevelSample[]): Metric[] {
  const of = all.filter((s) => s.fraction === fraction);
  const label = `${fraction * 100}%`;
  const half = fraction === 0.5;
  const ms = (
    name: string,
    pick: (s: LevelSample) => number,
    target?: number,
  ) =>
    metric({
      name: `${label}: ${name}`,
      unit: "ms",
      better: "lower",
      samples: of.map(pick),
      target:
        target === undefined
          ? undefined
          : { op: "<=", value: target, text: `under ${target} ms` },
    });
  return [
    ms(
      "QUEUED→RUNNING p50",
      (s) => s.queuedToRunningMs.p50,
      half ? 5 : undefined,
    ),
    ms("QUEUED→RUNNING p95", (s) => s.queuedToRunningMs.p95),
    ms(
      "QUEUED→RUNNING p99",
      (s) => s.queuedToRunningMs.p99,
      half ? 25 : undefined,
    ),
    ms("QUEUED→ASSIGNED p50", (s) => s.queuedToAssignedMs.p50),
    ms("submit→SUCCESS p50", (s) => s.submitToSuccessMs.p50),
    ms("submit→SUCCESS p95", (s) => s.submitToSuccessMs.p95),
    ms("submit→SUCCESS p99", (s) => s.submitToSuccessMs.p99),
    metric({
      name: `${label}: offered rate`,
      unit: "runs/s",
      better: "higher",
      samples: of.map((s) => s.achievedRate),
    }),
  ];
}
