/**
 * A workflow definition as a document (SPEC §3): the plain JSON a YAML or
 * JSON file parses to, and what `Workflow.toDefinition()` returns. The
 * control plane normalizes it when it is submitted (applies `defaults`,
 * fills `depends_on`, moves shorthand config keys into `config`).
 */
import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";
import type {
  AffinityExpression,
  AffinityOperator,
  RetryPolicy,
  TriggerRule,
} from "../workflow/index.js";

export type { AffinityExpression, AffinityOperator, RetryPolicy, TriggerRule };

/**
 * Kubernetes quantities: `cpu: "500m" | "2"`, `memory: "4Gi"`, `gpu` a
 * count or `{ count, type, memory }`, `storage` a size or
 * `{ size, type }`.
 */
export interface Resources {
  cpu?: string | number;
  memory?: string | number;
  gpu?: number | string | { count?: number; type?: string; memory?: string };
  storage?: string | number | { size?: string; type?: string };
}

/**
 * Where a secret the task sees comes from: the name of an entry in the
 * built-in store, or a provider and what it needs.
 */
export type SecretSource =
  | string
  | { provider: "store"; name: string }
  | { provider: "env"; name: string }
  | { provider: "vault"; path: string; key: string; mount?: string }
  | { provider: "kubernetes"; name: string; key: string; namespace?: string };

/** Task fields a workflow's `defaults` may set for all its tasks. */
export interface TaskDefaults {
  /** Seconds. */
  timeout?: number;
  retries?: number;
  retry?: RetryPolicy;
  resources?: Resources;
  node_selector?: Record<string, string>;
  affinity?: AffinityExpression[];
  labels?: Record<string, string>;
  env?: Record<string, string>;
  priority?: number;
  trigger_rule?: TriggerRule;
}

/** One task of a workflow document, keys in {@link TASK_KEY_ORDER}. */
export interface TaskDocument {
  id: string;
  name?: string;
  type: string;
  depends_on?: string[];
  /** A CEL boolean; false skips the task. */
  condition?: string;
  trigger_rule?: TriggerRule;
  /** A template (`${tasks.list.output.files}`) or a literal list. */
  for_each?: string | JsonValue[];
  dynamic?: boolean;
  /** Seconds. */
  timeout?: number;
  retries?: number;
  retry?: RetryPolicy;
  resources?: Resources;
  node_selector?: Record<string, string>;
  affinity?: AffinityExpression[];
  labels?: Record<string, string>;
  env?: Record<string, string>;
  secrets?: Record<string, SecretSource>;
  priority?: number;
  on_agent_disconnect?: "kill" | "keep_running";
  /** Seconds; with `on_agent_disconnect: keep_running` only. */
  lost_after?: number;
  config?: JsonObject;
}

/** A workflow document, keys in {@link WORKFLOW_KEY_ORDER}. */
export interface WorkflowDocument {
  name: string;
  description?: string;
  params?: JsonObject;
  defaults?: TaskDefaults;
  concurrency?: number;
  /** Seconds a run may take. */
  timeout?: number;
  tasks: TaskDocument[];
}

/**
 * The order of a task's keys in a built definition. Equal definitions
 * then serialize to equal JSON, and a YAML file written in this order
 * parses to exactly what the builder makes.
 */
export const TASK_KEY_ORDER = [
  "id",
  "name",
  "type",
  "depends_on",
  "condition",
  "trigger_rule",
  "for_each",
  "dynamic",
  "timeout",
  "retries",
  "retry",
  "resources",
  "node_selector",
  "affinity",
  "labels",
  "env",
  "secrets",
  "priority",
  "on_agent_disconnect",
  "lost_after",
  "config",
] as const satisfies readonly (keyof TaskDocument)[];

/** The order of a workflow's top-level keys in a built definition. */
export const WORKFLOW_KEY_ORDER = [
  "name",
  "description",
  "params",
  "defaults",
  "concurrency",
  "timeout",
  "tasks",
] as const satisfies readonly (keyof WorkflowDocument)[];
