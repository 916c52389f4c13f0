import type { Assignment } from "../gen/deerflow/v1/agent_pb.js";
import type { JsonObject, Labels, TaskContext } from "../plugin-sdk/index.js";
import { bindTemplate } from "../workflow/bind-template.js";
import type { TemplateContext } from "../workflow/template-context.js";
import type { WorkDir } from "./work-dir.js";

/** What a task context reports to: its attempt. */
export interface ContextTarget {
  /** The plugin's signal (`ctx.signal`) is this controller's. */
  readonly controller: AbortController;
  /** What templates read: the assignment's context and the secrets. */
  readonly templateContext: JsonObject;
  line(
    stream: "stdout" | "stderr" | "log",
    message: string,
    level?: string,
    fields?: JsonObject,
  ): void;
  point(
    kind: "counter" | "gauge" | "timer",
    name: string,
    value: number,
    labels?: Labels,
  ): void;
  addOutput(values: JsonObject): void;
}

/** The `ctx` a plugin's execute gets for one attempt. */
export function taskContext(
  attempt: ContextTarget,
  assignment: Assignment,
  config: JsonObject,
  workDir: WorkDir,
): TaskContext {
  const { controller } = attempt;
  const params = assignment.context?.params;
  return {
    runId: assignment.runId,
    taskId: assignment.taskId,
    attempt: assignment.attempt,
    config,
    params: isJsonObject(params) ? params : {},
    env: { ...assignment.env },
    // Resolved by the control plane at dispatch (SPEC §3).
    secrets: { ...assignment.secrets },
    get workDir() {
      return workDir.path;
    },
    resources: {
      cpuMillis: Number(assignment.resources?.cpuMillis ?? 0n),
      memoryBytes: Number(assignment.resources?.memoryBytes ?? 0n),
      gpuIndexes: (assignment.resources?.gpus ?? []).map((g) => g.index),
    },
    // Read on demand: Node makes a controller's signal on first use, and
    // a short task that never looks at it spares the agent one per task.
    get signal() {
      return controller.signal;
    },
    // Methods, not arrow functions: under tsx each named arrow made
    // here is renamed by a defineProperty call (esbuild's keepNames),
    // a tenth of a busy agent's time; `attempt` keeps them unbound-safe.
    log: {
      debug(message, fields) {
        attempt.line("log", message, "debug", fields);
      },
      info(message, fields) {
        attempt.line("log", message, "info", fields);
      },
      warn(message, fields) {
        attempt.line("log", message, "warn", fields);
      },
      error(message, fields) {
        attempt.line("log", message, "error", fields);
      },
    },
    metrics: {
      counter(name, increment = 1, labels) {
        attempt.point("counter", name, increment, labels);
      },
      gauge(name, value, labels) {
        attempt.point("gauge", name, value, labels);
      },
      timer(name, ms, labels) {
        attempt.point("timer", name, ms, labels);
      },
    },
    streams: {
      stdout(line) {
        attempt.line("stdout", line);
      },
      stderr(line) {
        attempt.line("stderr", line);
      },
    },
    output(values) {
      attempt.addOutput(values);
    },
    bind(text, field) {
      return bindTemplate(
        text,
        attempt.templateContext as unknown as TemplateContext,
        field,
      );
    },
  };
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
