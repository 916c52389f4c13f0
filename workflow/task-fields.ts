import { LABEL_KEY, LABEL_KEY_RULE } from "../core/agent-labels.js";
import { normalizeAffinity } from "./affinity-rules.js";
import {
  integerAtLeast,
  integerField,
  isObject,
  kindOf,
  MAX_ATTEMPTS,
  oneOf,
  type Report,
  stringMap,
  taskSeconds,
} from "./field-rules.js";
import { normalizeResources } from "./resources-rules.js";
import { normalizeRetryPolicy } from "./retry-policy-rules.js";
import { type TaskDefaults, TRIGGER_RULES } from "./workflow-definition.js";

/** Task fields that a workflow's `defaults` may also set. */
export const DEFAULTABLE_FIELDS: readonly (keyof TaskDefaults)[] = [
  "timeout",
  "retries",
  "retry",
  "resources",
  "node_selector",
  "affinity",
  "labels",
  "env",
  "priority",
  "trigger_rule",
];

/** node_selector keys name agent labels: as an agent may declare them. */
const LABEL_KEY_NAME = { pattern: LABEL_KEY, says: LABEL_KEY_RULE };

const ENV_NAME = {
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  says: "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
};

/** True for a key of {@link DEFAULTABLE_FIELDS}. */
export function isDefaultable(key: string): key is keyof TaskDefaults {
  return (DEFAULTABLE_FIELDS as readonly string[]).includes(key);
}

/**
 * Checks one defaultable field and returns its normalized value, or
 * undefined after reporting.
 */
export function normalizeDefaultable<K extends keyof TaskDefaults>(
  key: K,
  value: unknown,
  field: string,
  report: Report,
): TaskDefaults[K] | undefined {
  return normalizers[key](value, field, report) as TaskDefaults[K];
}

const normalizers: {
  [K in keyof TaskDefaults]-?: (
    value: unknown,
    field: string,
    report: Report,
  ) => TaskDefaults[K] | undefined;
} = {
  timeout: taskSeconds,
  retries: (value, field, report) =>
    integerAtLeast(value, 0, field, report, MAX_ATTEMPTS - 1),
  retry: normalizeRetryPolicy,
  resources: normalizeResources,
  node_selector: (value, field, report) =>
    stringMap(value, field, report, LABEL_KEY_NAME),
  affinity: normalizeAffinity,
  labels: (value, field, report) => stringMap(value, field, report),
  env: (value, field, report) => stringMap(value, field, report, ENV_NAME),
  priority: integerField,
  trigger_rule: (value, field, report) =>
    oneOf(value, TRIGGER_RULES, field, report),
};

/**
 * Checks a workflow's `defaults` block; unknown keys and setting both
 * `retries` and `retry` are problems.
 */
export function normalizeDefaults(
  value: unknown,
  report: Report,
): TaskDefaults | undefined {
  if (!isObject(value)) {
    report("defaults", `must be an object, not ${kindOf(value)}`);
    return undefined;
  }
  const defaults: TaskDefaults = {};
  for (const [key, item] of Object.entries(value)) {
    const field = `defaults.${key}`;
    if (!isDefaultable(key)) {
      report(
        field,
        `unknown field "${key}" (defaults may set ` +
          `${DEFAULTABLE_FIELDS.join(", ")})`,
      );
      continue;
    }
    const normalized = normalizeDefaultable(key, item, field, report);
    if (normalized !== undefined) {
      (defaults as Record<string, unknown>)[key] = normalized;
    }
  }
  if ("retries" in value && "retry" in value) {
    report("defaults.retries", "set either retries or retry, not both");
  }
  return defaults;
}
