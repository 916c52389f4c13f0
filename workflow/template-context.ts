import type { JsonObject } from "../plugin-sdk/index.js";

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
}

/** Variables every expression may use. */
export const CONTEXT_VARIABLES: ReadonlySet<string> = new Set([
  "params",
  "tasks",
  "run",
  "task",
]);

/**
 * Variables the SPEC defines that this version does not provide yet:
 * `secrets` (resolved on dispatch), `item` and `index` (for_each) and
 * `env` (the agent's environment). Naming them is reported as not
 * supported rather than read as a param, so adding them changes nothing
 * that works today.
 */
export const FUTURE_VARIABLES: ReadonlySet<string> = new Set([
  "secrets",
  "item",
  "index",
  "env",
]);
