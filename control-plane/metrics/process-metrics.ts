/**
 * The control plane's counters, one set per process (SPEC §8: Prometheus
 * metrics on `/metrics`). They count what this process did since it
 * started, as Prometheus counters do; the state of the whole system (the
 * queue, the agents) is read from the database at each scrape instead
 * (see database-gauges.ts).
 */
import {
  Counter,
  collectDefaultMetrics,
  Histogram,
  Registry,
} from "prom-client";
import type { AttemptResult, ResultVerdict } from "../leases/record-result.js";
import type { AttemptOutcomeName } from "../scheduler/states.js";

export const processRegistry = new Registry();

// The process's CPU, memory, event-loop lag and garbage collection, under
// Prometheus's usual names (process_cpu_seconds_total, nodejs_*).
collectDefaultMetrics({ register: processRegistry });

export const runsStarted = new Counter({
  name: "deerflow_runs_started_total",
  help: "Runs stored by StartRun (a repeat with the same idempotency key is not counted).",
  registers: [processRegistry],
});

export const leasesGranted = new Counter({
  name: "deerflow_leases_granted_total",
  help: "Leases granted to agents and polling workers: one per attempt started.",
  registers: [processRegistry],
});

export const leasesExpired = new Counter({
  name: "deerflow_leases_expired_total",
  help: "Leases taken back because their holder stopped renewing or never acknowledged them; each attempt is recorded LOST.",
  registers: [processRegistry],
});

export const resultsRecorded = new Counter({
  name: "deerflow_results_recorded_total",
  help: "Attempt results reported by agents and polling workers and recorded, by outcome (a resent duplicate is not counted).",
  labelNames: ["outcome"] as const,
  registers: [processRegistry],
});

export const rpcsHandled = new Counter({
  name: "deerflow_rpcs_handled_total",
  help: "API calls answered, by method and status code (streams when they end).",
  labelNames: ["method", "code"] as const,
  registers: [processRegistry],
});

export const rpcSeconds = new Histogram({
  name: "deerflow_rpc_duration_seconds",
  help: "Time to answer a unary API call, by method.",
  labelNames: ["method"] as const,
  buckets: [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
  ],
  registers: [processRegistry],
});

/**
 * Counts the results a batch recorded: `verdicts[i]` is the answer to
 * `results[i]`; refused results and resent duplicates are not counted.
 */
export function countRecorded(
  results: readonly Pick<AttemptResult, "outcome">[],
  verdicts: readonly ResultVerdict[],
): void {
  const byOutcome = new Map<AttemptOutcomeName, number>();
  verdicts.forEach((verdict, i) => {
    const outcome = results[i]?.outcome;
    if (outcome === undefined || !verdict.accepted || verdict.duplicate) {
      return;
    }
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  });
  for (const [outcome, n] of byOutcome) resultsRecorded.inc({ outcome }, n);
}
