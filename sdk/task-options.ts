import type { JsonValue } from "../plugin-sdk/index.js";
import { normalizeAffinity, TRIGGER_RULES } from "../workflow/index.js";
import { celText, type Expression, isExpression } from "./expression.js";
import {
  ENV_NAME_PATTERN,
  type FieldChecks,
  jsonField,
} from "./field-checks.js";
import { forEach } from "./for-each.js";
import { isJsonObject, kindOf } from "./plain-json.js";
import { SdkError } from "./sdk-error.js";
import type {
  AffinityExpression,
  Resources,
  RetryPolicy,
  SecretSource,
  TaskDefaults,
  TaskDocument,
  TriggerRule,
} from "./workflow-document.js";

/** Something with a task id: a task object, or anything naming one. */
export interface TaskLike {
  readonly id: string;
}

/**
 * The options every task takes besides its config, as SPEC §3 names
 * them. Units are in the names' docs; absent options are left out of
 * the definition, and the control plane's defaults apply.
 */
export interface TaskOptions {
  /** A display name. */
  name?: string;
  /** Upstream tasks: task objects or ids, each already in the workflow. */
  depends_on?: readonly (TaskLike | string)[];
  /** A CEL boolean evaluated when the upstream is done; false skips. */
  condition?: string | Expression;
  /** When the task runs given its upstream; default all_success. */
  trigger_rule?: TriggerRule;
  /** Expands the task into one child per item (see `forEach`). */
  for_each?: string | Expression | JsonValue[];
  /** The task's output `{ tasks: [...] }` is spliced into the run. */
  dynamic?: boolean;
  /** Seconds an attempt may take. */
  timeout?: number;
  /** Shorthand for `retry: { max_attempts: retries + 1 }`. */
  retries?: number;
  retry?: RetryPolicy;
  resources?: Resources;
  /** Label equalities an agent must match. */
  node_selector?: Record<string, string>;
  /**
   * Expressions on the agent's labels that must all hold:
   * `{ key, operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" |
   * "Lt", values }`.
   */
  affinity?: AffinityExpression[];
  labels?: Record<string, string>;
  /** Environment variables of the task. */
  env?: Record<string, string>;
  /** The secrets the task sees, by the name it sees them under. */
  secrets?: Record<string, SecretSource>;
  /** Higher runs first among tasks that fit; default 0. */
  priority?: number;
  /** "kill" (default) or "keep_running" when the agent loses the server. */
  on_agent_disconnect?: "kill" | "keep_running";
  /** Seconds; with `on_agent_disconnect: "keep_running"` only. */
  lost_after?: number;
}

/** The task document's fields that come from {@link TaskOptions}. */
export type OptionFields = Omit<TaskDocument, "id" | "type" | "config">;

/**
 * Checks task options and returns their definition fields. `selfId` is
 * the task's own id, which it may not depend on.
 */
export function taskOptionFields(
  options: TaskOptions,
  selfId: string,
  checks: FieldChecks,
): OptionFields {
  const o = options as Record<string, unknown>;
  const known = new Set<string>(OPTION_KEYS);
  for (const key of Object.keys(o)) {
    if (!known.has(key) && o[key] !== undefined) {
      checks.fail(
        key,
        `unknown task option (known: ${OPTION_KEYS.join(", ")})`,
      );
    }
  }
  const fields: OptionFields = {};
  if (o.name !== undefined) fields.name = checks.text(o.name, "name");
  if (o.depends_on !== undefined) {
    fields.depends_on = dependsOn(o.depends_on, selfId, checks);
  }
  if (o.condition !== undefined) fields.condition = checkedCondition(o, checks);
  if (o.for_each !== undefined) fields.for_each = checkedForEach(o, checks);
  if (o.dynamic !== undefined)
    fields.dynamic = checks.boolean(o.dynamic, "dynamic");
  Object.assign(fields, defaultableFields(o, checks, ""));
  if (o.secrets !== undefined) fields.secrets = secrets(o.secrets, checks);
  if (o.on_agent_disconnect !== undefined) {
    fields.on_agent_disconnect = checks.oneOf(
      o.on_agent_disconnect,
      ["kill", "keep_running"] as const,
      "on_agent_disconnect",
    );
  }
  if (o.lost_after !== undefined) {
    if (o.on_agent_disconnect !== "keep_running") {
      checks.fail(
        "lost_after",
        'applies only with on_agent_disconnect: "keep_running"',
      );
    }
    fields.lost_after = checks.seconds(o.lost_after, "lost_after");
  }
  return fields;
}

const OPTION_KEYS = [
  "name",
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
] as const satisfies readonly (keyof TaskOptions)[];

/** The fields `defaults` shares with tasks, checked under `prefix`. */
export function defaultableFields(
  source: Record<string, unknown>,
  checks: FieldChecks,
  prefix: string,
): TaskDefaults {
  const out: TaskDefaults = {};
  const at = (key: string) => `${prefix}${key}`;
  if (source.trigger_rule !== undefined) {
    out.trigger_rule = checks.oneOf(
      source.trigger_rule,
      TRIGGER_RULES,
      at("trigger_rule"),
    );
  }
  if (source.timeout !== undefined)
    out.timeout = checks.seconds(source.timeout, at("timeout"));
  if (source.retries !== undefined && source.retry !== undefined) {
    checks.fail(at("retries"), "set either retries or retry, not both");
  }
  if (source.retries !== undefined) {
    out.retries = checks.integer(source.retries, at("retries"), 0);
  }
  if (source.retry !== undefined) {
    out.retry = checks.object(source.retry, at("retry")) as RetryPolicy;
  }
  if (source.resources !== undefined) {
    out.resources = checks.object(
      source.resources,
      at("resources"),
    ) as Resources;
  }
  for (const key of ["node_selector", "labels"] as const) {
    if (source[key] !== undefined)
      out[key] = checks.stringMap(source[key], at(key));
  }
  if (source.affinity !== undefined) {
    out.affinity = affinity(source.affinity, at("affinity"), checks);
  }
  if (source.env !== undefined) {
    out.env = checks.stringMap(source.env, at("env"), ENV_NAME_PATTERN);
  }
  if (source.priority !== undefined) {
    out.priority = checks.integer(source.priority, at("priority"));
  }
  return out;
}

/** The control plane's own affinity rules; the first problem throws. */
function affinity(
  value: unknown,
  field: string,
  checks: FieldChecks,
): AffinityExpression[] {
  const expressions = normalizeAffinity(value, field, checks.fail);
  return expressions ?? checks.fail(field, "is not a valid affinity");
}

function dependsOn(
  value: unknown,
  selfId: string,
  checks: FieldChecks,
): string[] {
  if (!Array.isArray(value)) {
    return checks.fail("depends_on", "must be a list of tasks or task ids");
  }
  const ids: string[] = [];
  value.forEach((item: unknown, i) => {
    const field = `depends_on[${i}]`;
    const id =
      typeof item === "object" && item !== null && "id" in item
        ? checks.id(item.id, field)
        : checks.id(item, field);
    if (id === selfId) checks.fail(field, "a task cannot depend on itself");
    if (ids.includes(id)) checks.fail(field, `"${id}" is listed twice`);
    ids.push(id);
  });
  return ids;
}

function checkedCondition(
  o: Record<string, unknown>,
  checks: FieldChecks,
): string {
  const value = o.condition;
  if (typeof value !== "string" && !isExpression(value)) {
    checks.fail(
      "condition",
      `must be CEL text or an expression, not ${kindOf(value)}`,
    );
  }
  const text = isExpression(value) ? celText(value) : (value as string);
  if (text.trim() === "") checks.fail("condition", "must not be empty");
  return text;
}

function checkedForEach(o: Record<string, unknown>, checks: FieldChecks) {
  try {
    return forEach(o.for_each as string);
  } catch (error) {
    if (!(error instanceof SdkError)) throw error;
    return checks.fail("for_each", error.message.replace(/^for_each: /, ""));
  }
}

function secrets(
  value: unknown,
  checks: FieldChecks,
): Record<string, SecretSource> {
  const map = checks.object(value, "secrets");
  for (const [name, source] of Object.entries(map)) {
    const field = `secrets.${name}`;
    if (!ENV_NAME_PATTERN.test(name)) {
      checks.fail(field, "is not a secret name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (typeof source === "string") continue;
    if (!isJsonObject(source) || typeof source.provider !== "string") {
      checks.fail(field, "must be a store entry name or { provider, ... }");
    }
  }
  jsonField(checks, map, "secrets");
  return map as Record<string, SecretSource>;
}
