/**
 * The conformance suite every plugin passes, built-in or not (SPEC §6):
 * its definition and schema, success, failure, timeout and cancel reaching
 * its work, the shape of its output, and its logs. Framework-free, so both
 * vitest and `deerflow plugin test` run it.
 *
 * A plugin module offers its cases as the named export `conformance`
 * (a {@link ConformanceCases} or a function returning one, to start what
 * the cases need and stop it afterwards).
 */
import { checkConfig } from "../workflow/config-schema-check.js";
import type { JsonObject, JsonValue, Plugin } from "./plugin.js";
import { PluginUnavailableError } from "./plugin-unavailable.js";
import { TaskError } from "./task-error.js";
import {
  type CollectedLine,
  type PluginRun,
  type RunPluginOptions,
  runPlugin,
} from "./testing.js";

/** One run of the plugin: a config and whatever else `runPlugin` takes. */
export type ConformanceRun = Omit<
  RunPluginOptions<JsonObject>,
  "timeoutMs" | "signal" | "onLine"
>;

/** The cases a plugin author writes for the suite. */
export interface ConformanceCases {
  /** A run that succeeds and writes at least one line to its log. */
  success: ConformanceRun & {
    /** Extra checks on a successful run; throw to fail. */
    check?(run: PluginRun): void | Promise<void>;
    /**
     * False for a type that writes no log line by design (noop); its
     * lines, if any, are still checked. Default true.
     */
    writesLog?: boolean;
  };
  /** A run that fails: `execute` throws. */
  failure: ConformanceRun;
  /**
   * A run that keeps working until stopped (at least a minute), used for
   * timeout and cancel. `stopped` confirms its work really stopped (the
   * process, container or job is gone); without it only the plugin's
   * return is checked.
   */
  longRunning: ConformanceRun & {
    /** Resolves true once the work of this run has stopped. */
    stopped?(run: PluginRun): Promise<boolean>;
    /**
     * True for the line that shows the work has started; the cancel check
     * cancels then. Without it, the run is cancelled after 500 ms.
     */
    started?(line: CollectedLine): boolean;
  };
  /** Configs the schema rejects, each with the field its error names. */
  invalidConfigs: { config: JsonValue; field: string }[];
}

/** Cases, or a function that prepares them and says how to clean up. */
export type ConformanceSource =
  | ConformanceCases
  | (() => Promise<{ cases: ConformanceCases; dispose?(): Promise<void> }>);

/** One check of the suite and how it went. */
export interface ConformanceResult {
  name: string;
  passed: boolean;
  /** Why it failed. */
  reason?: string;
}

export interface ConformanceOptions {
  /** The timeout given to the long run. Default 1,000 ms. */
  timeoutMs?: number;
  /**
   * How long a stopped run may take to settle and to confirm its work
   * stopped before the check fails as hung. Default 60,000 ms.
   */
  settleLimitMs?: number;
  /** Called as each check finishes. */
  onResult?(result: ConformanceResult): void;
}

/** When the cancel check cancels a run that has no `started` test. */
const CANCEL_AFTER_MS = 500;

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** The names of the checks, in the order they run. */
export const CONFORMANCE_CHECKS = [
  "definition",
  "config schema accepts the cases' configs",
  "config schema rejects bad configs naming the field",
  "probe",
  "success",
  "output is a JSON object",
  "logs",
  "failure",
  "timeout reaches the work",
  "cancel reaches the work",
] as const;

/** Runs every check against `plugin`; never throws for a failed check. */
export async function runConformance(
  plugin: Plugin,
  source: ConformanceSource,
  options: ConformanceOptions = {},
): Promise<ConformanceResult[]> {
  const prepared =
    typeof source === "function" ? await source() : { cases: source };
  const results: ConformanceResult[] = [];
  const check = async (name: string, body: () => unknown) => {
    let result: ConformanceResult;
    try {
      await body();
      result = { name, passed: true };
    } catch (error) {
      result = { name, passed: false, reason: reasonOf(error) };
    }
    results.push(result);
    options.onResult?.(result);
  };
  try {
    await runChecks(plugin, prepared.cases, options, check);
  } finally {
    await prepared.dispose?.();
  }
  return results;
}

async function runChecks(
  plugin: Plugin,
  cases: ConformanceCases,
  options: ConformanceOptions,
  check: (name: string, body: () => unknown) => Promise<void>,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const settleLimitMs = options.settleLimitMs ?? 60_000;

  await check("definition", () => {
    expect(
      /^[a-z][a-z0-9_-]*$/.test(plugin.type),
      "type must match [a-z][a-z0-9_-]*",
    );
    expect(
      SEMVER.test(plugin.version),
      `version "${plugin.version}" is not semver`,
    );
    expect(typeof plugin.execute === "function", "execute must be a function");
    expect(
      plugin.configSchema.type === "object",
      'configSchema must describe an object ("type": "object")',
    );
  });

  await check("config schema accepts the cases' configs", () => {
    const runs = {
      success: cases.success,
      failure: cases.failure,
      longRunning: cases.longRunning,
    };
    for (const [name, run] of Object.entries(runs)) {
      const problems = schemaProblems(plugin, run.config);
      expect(problems.length === 0, `${name}: ${problems.join("; ")}`);
    }
  });

  await check("config schema rejects bad configs naming the field", () => {
    expect(cases.invalidConfigs.length > 0, "give at least one invalid config");
    for (const { config, field } of cases.invalidConfigs) {
      const problems = schemaProblems(plugin, config);
      expect(problems.length > 0, `${JSON.stringify(config)} was accepted`);
      expect(
        problems.some(
          (p) =>
            p.startsWith(`${field}:`) ||
            p.startsWith(`${field}.`) ||
            p.startsWith(`${field}[`),
        ),
        `${JSON.stringify(config)}: no error names ${field} (got: ${problems.join("; ")})`,
      );
    }
  });

  await check("probe", async () => {
    if (plugin.probe === undefined) return;
    try {
      const labels = await plugin.probe();
      expect(isPlainObject(labels), "probe must return an object of labels");
      for (const [key, value] of Object.entries(labels)) {
        expect(
          typeof value === "string",
          `probe label ${key} must be a string`,
        );
      }
    } catch (error) {
      // Unavailable on this host is an answer, not a failure.
      if (!(error instanceof PluginUnavailableError)) throw error;
    }
  });

  const success = await runPlugin(plugin, cases.success);
  await check("success", async () => {
    expect(
      success.outcome === "success",
      `outcome ${success.outcome}: ${success.error?.message ?? ""}`,
    );
    await cases.success.check?.(success);
  });
  await check("output is a JSON object", () => {
    expect(isPlainObject(success.output), "output must be an object");
    const copy: unknown = JSON.parse(JSON.stringify(success.output));
    expect(
      deepEqual(copy, success.output),
      "output must survive JSON unchanged (no undefined, functions, NaN, dates or class instances)",
    );
  });
  await check("logs", () => {
    if (cases.success.writesLog !== false) {
      expect(success.lines.length > 0, "the success case wrote no log line");
    }
    for (const line of success.lines) {
      expect(typeof line.message === "string", "every log line is a string");
    }
  });

  const failure = await runPlugin(plugin, cases.failure);
  await check("failure", () => {
    expect(
      failure.outcome === "failed",
      `outcome ${failure.outcome}, want failed`,
    );
    expect(failure.error instanceof TaskError, "the error is a TaskError");
    expect((failure.error?.message ?? "") !== "", "the error has a message");
  });

  await check("timeout reaches the work", async () => {
    const run = await withLimit(
      runPlugin(plugin, { ...cases.longRunning, timeoutMs }),
      settleLimitMs,
      `execute did not return within ${settleLimitMs} ms of its timeout`,
    );
    expect(
      run.outcome === "timed_out",
      `outcome ${run.outcome}, want timed_out`,
    );
    await confirmStopped(cases, run, settleLimitMs);
  });

  await check("cancel reaches the work", async () => {
    const controller = new AbortController();
    const started = cases.longRunning.started;
    // Without a `started` test, cancel once the run has had a moment.
    const timer =
      started === undefined
        ? setTimeout(() => controller.abort(), CANCEL_AFTER_MS)
        : undefined;
    const running = runPlugin(plugin, {
      ...cases.longRunning,
      signal: controller.signal,
      onLine: (line) => {
        if (started?.(line)) controller.abort();
      },
    }).finally(() => clearTimeout(timer));
    const run = await withLimit(
      running,
      settleLimitMs * 2,
      "execute never started (no line matched) or did not return after cancel",
    );
    expect(controller.signal.aborted, "the run ended before it was cancelled");
    expect(run.outcome === "killed", `outcome ${run.outcome}, want killed`);
    await confirmStopped(cases, run, settleLimitMs);
  });
}

async function confirmStopped(
  cases: ConformanceCases,
  run: PluginRun,
  limitMs: number,
): Promise<void> {
  const stopped = cases.longRunning.stopped;
  if (stopped === undefined) return;
  const deadline = Date.now() + limitMs;
  while (!(await stopped(run))) {
    expect(
      Date.now() < deadline,
      `the work was still running ${limitMs} ms after the plugin returned`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function schemaProblems(plugin: Plugin, config: JsonValue): string[] {
  const problems: string[] = [];
  if (!isPlainObject(config)) return ["config: must be an object"];
  checkConfig(
    config as JsonObject,
    plugin.configSchema,
    plugin.type,
    (field, message) => problems.push(`${field}: ${message}`),
  );
  return problems;
}

function withLimit<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    typeof a !== "object" ||
    typeof b !== "object" ||
    a === null ||
    b === null
  ) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEqual(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
    ),
  );
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
