import {
  type DeerFlowSystem,
  startDeerFlow,
  startRun,
  waitForRunEnd,
} from "../harness/deer-flow-system.js";
import { chainOfNoops } from "../harness/definitions.js";
import { metric } from "../harness/metric.js";
import { round } from "../harness/round.js";
import { firstTime, readRunEvents } from "../harness/run-history.js";
import { percentiles } from "../harness/stats.js";
import type { Scenario, ScenarioContext } from "../scenario.js";

/** One timed run of the chain, from its stored events. */
interface ChainSample {
  length: number;
  state: string;
  timedOut: boolean;
  /** Run PENDING to run SUCCESS, stored times, divided by the length. */
  perHopMs: number;
  /** From a task's SUCCESS to the next task's RUNNING. */
  handoffMs: { p50: number; p95: number; p99: number; count: number };
  /** From a task's RUNNING to its SUCCESS (the agent ran nothing). */
  turnaroundMs: { p50: number; p95: number; p99: number; count: number };
  /** As the harness saw it: before StartRun until it saw SUCCESS. */
  wallMs: number;
}

async function timeChain(
  system: DeerFlowSystem,
  length: number,
  timeoutMs: number,
): Promise<ChainSample> {
  const started = performance.now();
  const runId = await startRun(
    system.clients,
    chainOfNoops(`chain-${length}`, length),
  );
  const end = await waitForRunEnd(system, runId, timeoutMs);
  const wallMs = end.seenAtMs - started;
  const events = await readRunEvents(system.clients, runId);
  const runStart = firstTime(events, "", "PENDING");
  const runEnd = events.filter((e) => e.taskId === "").at(-1)?.atMs;
  const handoffs: number[] = [];
  const turnarounds: number[] = [];
  for (let i = 0; i < length; i += 1) {
    const running = firstTime(events, `t${i}`, "RUNNING");
    const success = firstTime(events, `t${i}`, "SUCCESS");
    turnarounds.push(success - running);
    if (i > 0)
      handoffs.push(running - firstTime(events, `t${i - 1}`, "SUCCESS"));
  }
  return {
    length,
    state: end.state,
    timedOut: end.timedOut,
    perHopMs:
      runEnd === undefined || end.timedOut
        ? Number.NaN
        : (runEnd - runStart) / length,
    handoffMs: percentiles(handoffs.filter(Number.isFinite)),
    turnaroundMs: percentiles(turnarounds.filter(Number.isFinite)),
    wallMs,
  };
}

/** Issue 6, scenario 3. */
export const chainScenario: Scenario = {
  name: "chain",
  title: "Chain: a sequential DAG of no-op tasks",
  description:
    "One run of a chain of no-op tasks (each depends on the one before; " +
    "1,000 by default) on the agent processes. Overhead per hop is the " +
    "run's stored duration (its PENDING event to its SUCCESS event) " +
    "divided by the number of tasks: since a no-op does no work, all of " +
    "it is the control plane's and the agent's path. The hop is split " +
    "in two from the stored task events: hand-off (a task's SUCCESS to " +
    "the next task's RUNNING: advancing the DAG, dispatch, the agent's " +
    "acknowledgement) and turnaround (RUNNING to SUCCESS: the agent runs " +
    "the no-op and its result is recorded).",
  pglite: true,
  run: runChain,
};

async function runChain(ctx: ScenarioContext) {
  const { options, progress } = ctx;
  const length = options.chainLength ?? (options.quick ? 30 : 1000);
  const timeoutMs = options.sampleTimeoutS * 1000;
  const system = await startDeerFlow(ctx);
  for (let i = 0; i < options.warmup; i += 1) {
    await timeChain(system, Math.min(length, 30), timeoutMs);
  }
  const samples: ChainSample[] = [];
  const notes: string[] = [];
  for (let r = 0; r < options.repeat; r += 1) {
    const sample = await timeChain(system, length, timeoutMs);
    samples.push(sample);
    progress.info("sample", {
      length,
      repetition: r + 1,
      per_hop_ms: round(sample.perHopMs, 2),
      state: sample.state,
    });
    if (sample.timedOut) {
      notes.push(
        `The chain did not end within ${options.sampleTimeoutS} s and was cancelled; per-hop overhead is not measured.`,
      );
      break;
    }
  }
  const ms = (name: string, values: number[], target?: number) =>
    metric({
      name,
      unit: "ms",
      better: "lower",
      samples: values,
      target:
        target === undefined
          ? undefined
          : { op: "<=", value: target, text: `under ${target} ms per hop` },
    });
  return {
    parameters: {
      length,
      agents: options.agents,
      slots_per_agent: options.slots,
      database: system.database.kind,
      repeat: options.repeat,
    },
    metrics: [
      ms(
        `overhead per hop, ${length} tasks`,
        samples.map((s) => s.perHopMs),
        5,
      ),
      ms(
        "hand-off p50 (SUCCESS → next RUNNING)",
        samples.map((s) => s.handoffMs.p50),
      ),
      ms(
        "hand-off p99",
        samples.map((s) => s.handoffMs.p99),
      ),
      ms(
        "turnaround p50 (RUNNING → SUCCESS)",
        samples.map((s) => s.turnaroundMs.p50),
      ),
      ms(
        "turnaround p99",
        samples.map((s) => s.turnaroundMs.p99),
      ),
    ],
    raw: { samples },
    notes,
  };
}
