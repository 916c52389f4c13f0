import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";

/** What one upstream task exposes to templates and conditions. */
export interface TaskState {
  /** The task's status, for example "SUCCESS". */
  status: string;
  output: JsonObject;
  exit_code?: number;
  /** How many attempts the task has had. */
  attempts: number;
}

/** The variables templates and conditions see (SPEC §3). */
export interface TemplateContext {
  /** The run's params: defaults with the run's overrides applied. */
  params: JsonObject;
  /** The task's upstream tasks, by id. */
  tasks: Record<string, TaskState>;
  run: { id: string; name: string; started_at: string };
  /** The task being rendered; `attempt` is 1-based. */
  task: { id: string; attempt: number };
  /** In a child of a `for_each` task: its item and 0-based index. */
  item?: JsonValue;
  index?: number;
  /**
   * The task's secrets by the names it sees. Only the agent has them:
   * the control plane never binds them (conditions cannot read them).
   */
  secrets?: Record<string, string>;
}

/** Variables every expression may use. */
export const CONTEXT_VARIABLES: ReadonlySet<string> = new Set([
  "params",
  "tasks",
  "run",
  "task",
  "secrets",
  "item",
  "index",
]);

/**
 * Variables the SPEC defines that this version does not provide yet:
 * `env` (the agent's environment). Naming it is reported as not supported
 * rather than read as a param, so adding it changes nothing that works
 * today.
 */
export const FUTURE_VARIABLES: ReadonlySet<string> = new Set(["env"]);
