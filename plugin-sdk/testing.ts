/**
 * Runs a plugin's `execute` outside an agent, with a real task context:
 * a temporary work directory, an abort signal with an optional timeout,
 * and a logger, metrics and streams that collect what the plugin writes.
 * Plugin tests and the conformance suite use it; the agent builds its own
 * context.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindTemplate } from "../workflow/bind-template.js";
import type { TemplateContext } from "../workflow/template-context.js";
import type {
  AllocatedResources,
  JsonObject,
  Labels,
  Plugin,
  TaskContext,
} from "./plugin.js";
import { TaskAbort } from "./task-abort.js";
import { TaskError } from "./task-error.js";

/** How a plugin run ended. */
export type PluginOutcome =
  /** `execute` resolved. */
  | "success"
  /** `execute` threw while the signal was not aborted. */
  | "failed"
  /** `execute` threw after a timeout abort. */
  | "timed_out"
  /** `execute` threw after a kill (or stale lease) abort. */
  | "killed"
  /** `execute` threw after a lost-lease abort. */
  | "lost";

/** One line the plugin wrote to its streams or its logger. */
export interface CollectedLine {
  stream: "stdout" | "stderr" | "log";
  /** Set for logger lines. */
  level?: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: JsonObject;
}

/** One metric point the plugin recorded. */
export interface CollectedMetric {
  kind: "counter" | "gauge" | "timer";
  name: string;
  value: number;
  labels?: Labels;
}

/** Options of {@link runPlugin}. */
export interface RunPluginOptions<Config> {
  /** The config as `execute` sees it: templates already rendered. */
  config: Config;
  params?: JsonObject;
  env?: Record<string, string>;
  secrets?: Record<string, string>;
  runId?: string;
  taskId?: string;
  /** Default 1. */
  attempt?: number;
  resources?: AllocatedResources;
  /** Aborts the signal with `TaskAbort("timeout")` after this long. */
  timeoutMs?: number;
  /**
   * Aborting it aborts the attempt's signal with the same reason (a
   * reason that is not a TaskAbort becomes `TaskAbort("killed")`).
   */
  signal?: AbortSignal;
  /**
   * What `ctx.bind` evaluates templates against. Default: `params` with an
   * empty `tasks`, and `run`/`task` from the ids above.
   */
  templateContext?: JsonObject;
  /** Prepares the work directory (writes files) before `execute`. */
  setup?(workDir: string): Promise<void> | void;
  /** Sees every line as it is written, to await one mid-run. */
  onLine?(line: CollectedLine): void;
}

/** What a plugin run produced. */
export interface PluginRun {
  outcome: PluginOutcome;
  /** Everything merged through `ctx.output`. */
  output: JsonObject;
  exitCode: number | undefined;
  /** What `execute` threw; anything but a TaskError is wrapped in one. */
  error: TaskError | undefined;
  lines: CollectedLine[];
  metrics: CollectedMetric[];
}

/** Runs `plugin.execute` once; the work directory is removed afterwards. */
export async function runPlugin<Config>(
  plugin: Plugin<Config>,
  options: RunPluginOptions<Config>,
): Promise<PluginRun> {
  const workDir = await mkdtemp(join(tmpdir(), "deerflow-attempt-"));
  const abort = linkAbort(options);
  try {
    await options.setup?.(workDir);
    const collected = collector(options.onLine);
    const ctx = buildContext(options, workDir, abort.controller, collected);
    try {
      const result = await plugin.execute(ctx);
      return {
        ...collected.run,
        outcome: "success",
        exitCode: result?.exitCode,
        error: undefined,
      };
    } catch (thrown) {
      const error = asTaskError(thrown);
      return {
        ...collected.run,
        outcome: outcomeOf(abort.controller.signal),
        exitCode: error.exitCode,
        error,
      };
    }
  } finally {
    abort.dispose();
    await rm(workDir, { recursive: true, force: true });
  }
}

function collector(onLine: ((line: CollectedLine) => void) | undefined) {
  const run = {
    output: {} as JsonObject,
    lines: [] as CollectedLine[],
    metrics: [] as CollectedMetric[],
  };
  const add = (line: CollectedLine) => {
    run.lines.push(line);
    onLine?.(line);
  };
  return { run, add };
}

function buildContext<Config>(
  options: RunPluginOptions<Config>,
  workDir: string,
  controller: AbortController,
  collected: ReturnType<typeof collector>,
): TaskContext<Config> {
  const { add, run } = collected;
  const log = (level: NonNullable<CollectedLine["level"]>) => {
    return (message: string, fields?: JsonObject) =>
      add({ stream: "log", level, message, ...(fields ? { fields } : {}) });
  };
  const metric = (kind: CollectedMetric["kind"]) => {
    return (name: string, value = 1, labels?: Labels) => {
      run.metrics.push({ kind, name, value, ...(labels ? { labels } : {}) });
    };
  };
  return {
    runId: options.runId ?? "run-test",
    taskId: options.taskId ?? "task-test",
    attempt: options.attempt ?? 1,
    config: options.config,
    params: options.params ?? {},
    env: options.env ?? {},
    secrets: options.secrets ?? {},
    workDir,
    resources: options.resources ?? {
      cpuMillis: 0,
      memoryBytes: 0,
      gpuIndexes: [],
    },
    signal: controller.signal,
    log: {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
    },
    metrics: {
      counter: metric("counter"),
      gauge: metric("gauge"),
      timer: metric("timer"),
    },
    streams: {
      stdout: (message) => add({ stream: "stdout", message }),
      stderr: (message) => add({ stream: "stderr", message }),
    },
    output(values) {
      if (typeof values !== "object" || values === null) {
        throw new TypeError("ctx.output: values must be an object");
      }
      Object.assign(run.output, values);
    },
    bind(text, field) {
      return bindTemplate(text, templateContextOf(options), field);
    },
  };
}

function templateContextOf<Config>(
  options: RunPluginOptions<Config>,
): TemplateContext {
  if (options.templateContext !== undefined) {
    return options.templateContext as unknown as TemplateContext;
  }
  return {
    params: options.params ?? {},
    tasks: {},
    run: {
      id: options.runId ?? "run-test",
      name: "test",
      started_at: new Date(0).toISOString(),
    },
    task: { id: options.taskId ?? "task-test", attempt: options.attempt ?? 1 },
  };
}

function linkAbort(options: { timeoutMs?: number; signal?: AbortSignal }) {
  const controller = new AbortController();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new TaskAbort("timeout")),
          options.timeoutMs,
        );
  const external = options.signal;
  const onExternal = () => {
    if (external === undefined) return;
    const reason = TaskAbort.reasonOf(external) ?? "killed";
    controller.abort(new TaskAbort(reason));
  };
  if (external?.aborted) onExternal();
  else external?.addEventListener("abort", onExternal, { once: true });
  return {
    controller,
    dispose() {
      clearTimeout(timer);
      external?.removeEventListener("abort", onExternal);
    },
  };
}

function outcomeOf(signal: AbortSignal): PluginOutcome {
  switch (TaskAbort.reasonOf(signal)) {
    case undefined:
      return "failed";
    case "timeout":
      return "timed_out";
    case "lost":
      return "lost";
    default:
      return "killed";
  }
}

function asTaskError(thrown: unknown): TaskError {
  if (thrown instanceof TaskError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new TaskError(message, { cause: thrown });
}
