import type { BenchOptions } from "./bench-options.js";
import type { Cleanup } from "./harness/cleanup.js";
import type { Machine } from "./harness/machine.js";
import type { Metric } from "./harness/metric.js";
import type { Progress } from "./harness/progress.js";

/** What a scenario gets from the harness. */
export interface ScenarioContext {
  options: BenchOptions;
  /** Where progress lines go (stderr). */
  progress: Progress;
  /** Everything the scenario starts is registered here and undone after. */
  cleanup: Cleanup;
}

/** What a scenario measured. */
export interface ScenarioResult {
  /** The parameters it ran with (sizes, agents, slots, repetitions). */
  parameters: Record<string, unknown>;
  metrics: Metric[];
  /** Raw samples and per-repetition details, kept in the JSON file. */
  raw: Record<string, unknown>;
  /** Plain remarks: partial samples, skipped sizes, caveats. */
  notes: string[];
  /** Facts about the machine the scenario learnt (Redis's version). */
  machine?: Partial<Machine>;
}

/** One benchmark scenario of issue 6. */
export interface Scenario {
  /** The name on the command line and of the result files. */
  name: string;
  title: string;
  /** One paragraph: what it measures and how. */
  description: string;
  /** Whether it can run on PGlite (`--pglite`). */
  pglite: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
