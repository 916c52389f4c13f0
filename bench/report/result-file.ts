import type { Machine, Revision } from "../harness/machine.js";
import type { Metric } from "../harness/metric.js";

/** Everything one scenario's run wrote to bench/results/<scenario>.json. */
export interface ResultFile {
  scenario: string;
  title: string;
  description: string;
  /** When the scenario finished (ISO 8601). */
  date: string;
  /** Wall time of the whole scenario, setup included, in seconds. */
  durationS: number;
  revision: Revision;
  machine: Machine;
  /** The harness settings that shape the numbers. */
  harness: {
    quick: boolean;
    repeat: number;
    warmup: number;
    command: string;
  };
  parameters: Record<string, unknown>;
  metrics: Metric[];
  notes: string[];
  raw: Record<string, unknown>;
}

/**
 * Checks that parsed JSON has the shape of a {@link ResultFile}; returns
 * the problems, each naming its field (the summary skips bad files).
 */
export function resultFileProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== "object" || value === null)
    return ["(root): not an object"];
  const v = value as Record<string, unknown>;
  for (const key of ["scenario", "title", "description", "date"]) {
    if (typeof v[key] !== "string") problems.push(`${key}: must be a string`);
  }
  if (typeof v.date === "string" && Number.isNaN(Date.parse(v.date))) {
    problems.push("date: not a date");
  }
  if (typeof v.machine !== "object" || v.machine === null) {
    problems.push("machine: must be an object");
  }
  const revision = v.revision as Record<string, unknown> | undefined;
  if (typeof revision?.commit !== "string") {
    problems.push("revision.commit: must be a string");
  }
  if (!Array.isArray(v.metrics)) {
    problems.push("metrics: must be a list");
  } else {
    v.metrics.forEach((m: unknown, i) => {
      const metric = m as Partial<Metric> | null;
      if (typeof metric?.name !== "string") {
        problems.push(`metrics[${i}].name: must be a string`);
      }
      if (!Array.isArray(metric?.samples)) {
        problems.push(`metrics[${i}].samples: must be a list`);
      }
      // A metric with no samples has a median of null (NaN in JSON).
      const median = metric?.summary?.median as unknown;
      if (typeof median !== "number" && median !== null) {
        problems.push(`metrics[${i}].summary.median: must be a number or null`);
      }
    });
  }
  if (!Array.isArray(v.notes)) problems.push("notes: must be a list");
  return problems;
}
