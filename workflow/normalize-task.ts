import type { ConfigSchema, JsonObject } from "../plugin-sdk/index.js";
import { checkConfig } from "./config-schema-check.js";
import {
  ID_PATTERN,
  idField,
  isObject,
  kindOf,
  MAX_ID_CHARS,
  type Report,
  stringField,
  taskSeconds,
} from "./field-rules.js";
import { readSecretsBlock } from "./secret-sources.js";
import { setOwn } from "./set-own.js";
import { isDefaultable, normalizeDefaultable } from "./task-fields.js";
import {
  MAX_FOR_EACH_ITEMS,
  type Problem,
  type TaskDefaults,
  type TaskDefinition,
  type TaskTypeCatalog,
} from "./workflow-definition.js";

/** A task after normalization, whether or not it had problems. */
export interface NormalizedTask {
  /** The task as far as it could be normalized. */
  task: TaskDefinition;
  /** Whether the task's own fields had no problems. */
  ok: boolean;
  /** Where the task sits in `tasks`. */
  index: number;
}

/** What normalizing a task needs from the workflow. */
export interface TaskNormalizationContext {
  taskTypes: TaskTypeCatalog;
  defaults: TaskDefaults;
  problems: Problem[];
}

/**
 * Normalizes one entry of `tasks`: checks its own fields, moves shorthand
 * config keys into `config`, applies the workflow's defaults where the task
 * sets nothing, and validates `config` against the type's schema. A task
 * without a usable id reports at workflow level under `tasks[N].`, and
 * is left out (undefined).
 */
export function normalizeTask(
  raw: unknown,
  index: number,
  context: TaskNormalizationContext,
): NormalizedTask | undefined {
  const before = context.problems.length;
  const prefix = `tasks[${index}]`;
  if (!isObject(raw)) {
    report(context, "", prefix, `must be an object, not ${kindOf(raw)}`);
    return undefined;
  }
  const idValue = raw.id;
  const usable =
    typeof idValue === "string" &&
    idValue.length <= MAX_ID_CHARS &&
    ID_PATTERN.test(idValue);
  const id = usable ? idValue : "";
  const reportHere: Report = (field, message) =>
    report(context, id, usable ? field : `${prefix}.${field}`, message);
  if (!usable) requiredId(idValue, reportHere);
  const schema = taskType(raw.type, context.taskTypes, reportHere);
  const task = readFields(raw, schema, reportHere);
  applyDefaults(task, raw, context.defaults);
  if (schema !== undefined && typeof raw.type === "string") {
    checkConfig(task.config, schema, raw.type, reportHere);
  }
  if (!usable) return undefined;
  return { task, ok: context.problems.length === before, index };
}

function report(
  context: TaskNormalizationContext,
  taskId: string,
  field: string,
  message: string,
): void {
  context.problems.push({ taskId, field, message });
}

function requiredId(value: unknown, report: Report): void {
  if (value === undefined) report("id", "is required");
  else idField(value, "id", report);
}

function taskType(
  value: unknown,
  taskTypes: TaskTypeCatalog,
  report: Report,
): ConfigSchema | undefined {
  if (value === undefined) {
    report("type", "is required");
    return undefined;
  }
  const name = stringField(value, "type", report);
  if (name === undefined) return undefined;
  const schema = taskTypes.get(name);
  if (schema === undefined) {
    const known = [...taskTypes.keys()].sort().join(", ") || "none";
    report("type", `unknown task type "${name}" (known: ${known})`);
  }
  return schema;
}

function readFields(
  raw: JsonObject,
  schema: ConfigSchema | undefined,
  report: Report,
): TaskDefinition {
  const task: TaskDefinition = {
    id: typeof raw.id === "string" ? raw.id : "",
    type: typeof raw.type === "string" ? raw.type : "",
    depends_on: [],
    config: {},
    node_selector: {},
    priority: 0,
  };
  const shorthand: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "id" || key === "type") continue;
    if (!readField(task, key, value, report)) {
      if (schema !== undefined && isConfigKey(schema, key)) {
        setOwn(shorthand, key, value);
      } else if (schema !== undefined) {
        report(key, `unknown field "${key}"`);
      }
      // With an unknown type nobody can tell shorthand from a typo; the
      // type's own problem is reported instead.
    }
  }
  for (const [key, value] of Object.entries(shorthand)) {
    if (Object.hasOwn(task.config, key)) {
      report(key, `"${key}" is set both on the task and in config`);
    } else {
      setOwn(task.config, key, value);
    }
  }
  if ("lost_after" in raw && raw.on_agent_disconnect !== "keep_running") {
    report("lost_after", "applies only with on_agent_disconnect: keep_running");
  }
  if ("retries" in raw && "retry" in raw) {
    report("retries", "set either retries or retry, not both");
  }
  return task;
}

/** Reads a task field; false when the key is not a task field. */
function readField(
  task: TaskDefinition,
  key: string,
  value: unknown,
  report: Report,
): boolean {
  switch (key) {
    case "name":
    case "condition": {
      const text = stringField(value, key, report);
      if (text !== undefined) task[key] = text;
      return true;
    }
    case "depends_on":
      task.depends_on = dependsOn(value, report);
      return true;
    case "on_agent_disconnect":
      if (value === "kill" || value === "keep_running") {
        task.on_agent_disconnect = value;
      } else {
        report(
          key,
          `must be "kill" or "keep_running", not ${JSON.stringify(value)}`,
        );
      }
      return true;
    case "lost_after": {
      const seconds = taskSeconds(value, key, report);
      if (seconds !== undefined) task.lost_after = seconds;
      return true;
    }
    case "for_each":
      if (Array.isArray(value) || typeof value === "string") {
        task.for_each = value as TaskDefinition["for_each"];
        // A run would fail the task when it expands: refused now.
        if (Array.isArray(value) && value.length > MAX_FOR_EACH_ITEMS) {
          report(
            key,
            `${value.length} items exceed the limit of ${MAX_FOR_EACH_ITEMS}`,
          );
        }
      } else {
        report(
          key,
          `must be a list or a "\${...}" expression giving one, not ${kindOf(value)}`,
        );
      }
      return true;
    case "dynamic":
      if (typeof value === "boolean") {
        if (value) task.dynamic = true;
      } else {
        report(key, `must be true or false, not ${kindOf(value)}`);
      }
      return true;
    case "config":
      if (isObject(value)) task.config = { ...value };
      else report(key, `must be an object, not ${kindOf(value)}`);
      return true;
    case "secrets": {
      const block = readSecretsBlock(value, key, report);
      if (block !== undefined) task.secrets = block;
      return true;
    }
    default:
      if (!isDefaultable(key)) return false;
      setDefaultable(task, key, normalizeDefaultable(key, value, key, report));
      return true;
  }
}

function setDefaultable(
  task: TaskDefinition,
  key: keyof TaskDefaults,
  value: unknown,
): void {
  if (value !== undefined)
    (task as unknown as JsonObject)[key] = value as never;
}

function dependsOn(value: unknown, report: Report): string[] {
  if (!Array.isArray(value)) {
    report("depends_on", `must be a list of task ids, not ${kindOf(value)}`);
    return [];
  }
  // A repeat is reported and kept, so that later problems name the
  // positions the author wrote.
  const ids: string[] = [];
  const firstAt = new Map<string, number>();
  value.forEach((item, i) => {
    const id = idField(item, `depends_on[${i}]`, report);
    if (id === undefined) return;
    ids.push(id);
    const first = firstAt.get(id);
    if (first === undefined) firstAt.set(id, i);
    else {
      report(
        `depends_on[${i}]`,
        `"${id}" is already listed at depends_on[${first}]`,
      );
    }
  });
  return ids;
}

function isConfigKey(schema: ConfigSchema, key: string): boolean {
  const properties = schema.properties;
  return isObject(properties) && Object.hasOwn(properties, key);
}

/** Fills fields the task does not set from the workflow's defaults. */
function applyDefaults(
  task: TaskDefinition,
  raw: JsonObject,
  defaults: TaskDefaults,
): void {
  const setsRetry = "retries" in raw || "retry" in raw;
  for (const [key, value] of Object.entries(defaults)) {
    if (key in raw || value === undefined) continue;
    if ((key === "retries" || key === "retry") && setsRetry) continue;
    (task as unknown as Record<string, unknown>)[key] = structuredClone(value);
  }
}
