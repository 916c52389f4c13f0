/**
 * The stored, normalized shape of a workflow definition (SPEC §3). Keys are
 * the snake_case ones users write, so a stored definition reads like the
 * file it came from.
 */
import type {
  ConfigSchema,
  JsonObject,
  JsonValue,
} from "../plugin-sdk/index.js";

/** When a task runs, given how its upstream tasks ended. */
export type TriggerRule =
  /** Every upstream task succeeded (the default). */
  | "all_success"
  /** Every upstream task is done, however it ended. */
  | "all_done"
  /** At least one upstream task succeeded. */
  | "one_success"
  /** At least one upstream task failed. */
  | "one_failed"
  /** No upstream task failed (skips are fine). */
  | "none_failed";

/** Every trigger rule, in the order the SPEC lists them. */
export const TRIGGER_RULES: readonly TriggerRule[] = [
  "all_success",
  "all_done",
  "one_success",
  "one_failed",
  "none_failed",
];

/** How the delay between attempts grows. */
export type Backoff = "fixed" | "linear" | "exponential";

/**
 * A failure class that may be retried: `error` (the task failed),
 * `timeout`, `lost` (the lease expired), `5xx`, `429`, or `exit_code:N`.
 */
export type RetryClass =
  | "error"
  | "timeout"
  | "lost"
  | "5xx"
  | "429"
  | `exit_code:${number}`;

/**
 * A task's retry policy as written. Absent keys take the scheduler's
 * defaults; delays are seconds.
 */
export interface RetryPolicy {
  max_attempts?: number;
  initial_delay?: number;
  max_delay?: number;
  backoff?: Backoff;
  multiplier?: number;
  /** `true`, or the fraction (0..1) of each delay that is randomized. */
  jitter?: boolean | number;
  retry_on?: RetryClass[];
}

/**
 * How an affinity expression tests one agent label (SPEC §3, §5). Label
 * values are strings; Gt and Lt read them as integers.
 */
export type AffinityOperator =
  /** The label is set to one of `values`. */
  | "In"
  /** The label is unset, or set to none of `values`. */
  | "NotIn"
  /** The label is set, to anything. */
  | "Exists"
  /** The label is unset. */
  | "DoesNotExist"
  /** The label is an integer greater than the one value. */
  | "Gt"
  /** The label is an integer less than the one value. */
  | "Lt";

/** Every affinity operator, in the order the SPEC lists them. */
export const AFFINITY_OPERATORS: readonly AffinityOperator[] = [
  "In",
  "NotIn",
  "Exists",
  "DoesNotExist",
  "Gt",
  "Lt",
];

/**
 * One expression of a task's `affinity`, normalized: `values` are
 * strings, one or more for In and NotIn, exactly one integer for Gt and
 * Lt, and absent for Exists and DoesNotExist.
 */
export interface AffinityExpression {
  /** The agent label the expression tests. */
  key: string;
  operator: AffinityOperator;
  values?: string[];
}

/**
 * Most children one `for_each` may expand into: a list written in the
 * definition is refused past it at submit, one an expression gives fails
 * the task when it expands.
 */
export const MAX_FOR_EACH_ITEMS = 10_000;

/** One task definition of a workflow, normalized. */
export interface TaskDefinition {
  id: string;
  name?: string;
  type: string;
  depends_on: string[];
  /** A CEL boolean evaluated when the upstream is done. */
  condition?: string;
  /**
   * Expands the task at run time into one child per item (`id[0]`,
   * `id[1]`, ...), each reading `item` and `index`: a list, or a string
   * that is exactly one `${expr}` evaluating to a list; at most
   * {@link MAX_FOR_EACH_ITEMS} items.
   */
  for_each?: string | JsonValue[];
  /**
   * The task's output `{ "tasks": [...] }` is validated and spliced into
   * the run under the task's id (`id/child`); dependents wait for them.
   */
  dynamic?: boolean;
  trigger_rule?: TriggerRule;
  /** The task type's config; templates are still unrendered. */
  config: JsonObject;
  /** Seconds. */
  timeout?: number;
  /** Shorthand for `retry.max_attempts = retries + 1`. */
  retries?: number;
  retry?: RetryPolicy;
  resources?: JsonObject;
  node_selector: Record<string, string>;
  /**
   * Expressions on the agent's labels that must all hold, besides
   * `node_selector`, for an agent to take the task.
   */
  affinity?: AffinityExpression[];
  labels?: Record<string, string>;
  env?: Record<string, string>;
  /**
   * Secrets by the name the task sees: a built-in store name, or
   * `{ provider, ... }` (see secret-sources.ts). Kept as written; values
   * resolve at dispatch and are never stored.
   */
  secrets?: JsonObject;
  priority: number;
  /**
   * What the agent does with the attempt when it cannot renew its lease:
   * "kill" it (the default), or "keep_running" and re-attach the lease on
   * reconnect while the control plane still holds it.
   */
  on_agent_disconnect?: "kill" | "keep_running";
  /**
   * With keep_running: seconds without a renewed lease after which the
   * attempt is lost; the lease lives this long instead of its usual TTL.
   */
  lost_after?: number;
}

/** Task fields a workflow's `defaults` may set for all its tasks. */
export interface TaskDefaults {
  timeout?: number;
  retries?: number;
  retry?: RetryPolicy;
  resources?: JsonObject;
  node_selector?: Record<string, string>;
  affinity?: AffinityExpression[];
  labels?: Record<string, string>;
  env?: Record<string, string>;
  priority?: number;
  trigger_rule?: TriggerRule;
}

/** A workflow definition after normalization and validation. */
export interface WorkflowDefinition {
  name: string;
  description?: string;
  /** Param defaults; a run may override declared params. */
  params: JsonObject;
  defaults?: TaskDefaults;
  /** At most this many tasks of one run at once. */
  concurrency?: number;
  /** Seconds a run may take. */
  timeout?: number;
  tasks: TaskDefinition[];
}

/**
 * One thing wrong with a definition. `taskId` is "" for the workflow level
 * (and for a task without a usable id, whose field then starts with
 * `tasks[N].`); `field` is a dotted path like "config.command",
 * "depends_on[1]" or "tasks[3].id".
 */
export interface Problem {
  taskId: string;
  field: string;
  message: string;
}

/** What the validator knows about task types: name -> config schema. */
export type TaskTypeCatalog = ReadonlyMap<string, ConfigSchema>;
