import { type Summary, summarize } from "./stats.js";

/** Which direction of a metric is an improvement. */
export type Better = "higher" | "lower";

/** What a metric is measured against (one of the targets). */
export interface Target {
  /** The median must be at least (`>=`) or at most (`<=`) this value. */
  op: ">=" | "<=";
  value: number;
  /** As the issue words it, e.g. "at least 5,000 tasks/s". */
  text: string;
}

/** One measured quantity of a scenario, over its repetitions. */
export interface Metric {
  /** Short, unique within the scenario: "throughput, N=10000". */
  name: string;
  /** "tasks/s", "ms", "MiB", "% of one core", "s", "ratio". */
  unit: string;
  better: Better;
  /** One value per repetition (or per sample, as `note` says). */
  samples: number[];
  summary: Summary;
  target?: Target | undefined;
  /** Whether the median meets the target; absent without a target. */
  met?: boolean | undefined;
  /** How the value was taken, or why it is partial. */
  note?: string | undefined;
}

/** Builds a metric, summarizing its samples and checking its target. */
export function metric(input: {
  name: string;
  unit: string;
  better: Better;
  samples: readonly number[];
  target?: Target | undefined;
  note?: string | undefined;
}): Metric {
  const summary = summarize(input.samples);
  const met =
    input.target === undefined || Number.isNaN(summary.median)
      ? undefined
      : input.target.op === ">="
        ? summary.median >= input.target.value
        : summary.median <= input.target.value;
  return {
    name: input.name,
    unit: input.unit,
    better: input.better,
    samples: [...input.samples],
    summary,
    ...(input.target ? { target: input.target, met } : {}),
    ...(input.note ? { note: input.note } : {}),
  };
}
