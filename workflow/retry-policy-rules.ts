import {
  integerAtLeast,
  isObject,
  kindOf,
  MAX_ATTEMPTS,
  oneOf,
  type Report,
  show,
} from "./field-rules.js";
import type {
  Backoff,
  RetryClass,
  RetryPolicy,
} from "./workflow-definition.js";

const BACKOFFS: readonly Backoff[] = ["fixed", "linear", "exponential"];
const NAMED_CLASSES = ["error", "timeout", "lost", "5xx", "429"];
const EXIT_CODE_CLASS = /^exit_code:-?[0-9]+$/;

/**
 * Checks a `retry` object (SPEC §3): max_attempts >= 1, delays in seconds
 * >= 0, backoff fixed|linear|exponential, multiplier > 0, jitter a bool or
 * a fraction 0..1, retry_on a list of retry classes.
 */
export function normalizeRetryPolicy(
  value: unknown,
  field: string,
  report: Report,
): RetryPolicy | undefined {
  if (!isObject(value)) {
    report(field, `must be an object, not ${kindOf(value)}`);
    return undefined;
  }
  const policy: RetryPolicy = {};
  let ok = true;
  const fail: Report = (f, message) => {
    ok = false;
    report(f, message);
  };
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    switch (key) {
      case "max_attempts":
        policy.max_attempts = integerAtLeast(item, 1, at, fail, MAX_ATTEMPTS);
        break;
      case "initial_delay":
      case "max_delay":
        policy[key] = seconds(item, at, fail);
        break;
      case "backoff":
        policy.backoff = oneOf(item, BACKOFFS, at, fail);
        break;
      case "multiplier":
        policy.multiplier = positive(item, at, fail);
        break;
      case "jitter":
        policy.jitter = jitter(item, at, fail);
        break;
      case "retry_on":
        policy.retry_on = retryOn(item, at, fail);
        break;
      default:
        fail(at, `unknown field "${key}"`);
    }
  }
  const { initial_delay: initial, max_delay: max } = policy;
  if (initial !== undefined && max !== undefined && max < initial) {
    fail(`${field}.max_delay`, "must not be less than initial_delay");
  }
  return ok ? policy : undefined;
}

function seconds(value: unknown, field: string, report: Report) {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) {
    return value;
  }
  report(field, `must be a number of seconds >= 0, not ${show(value)}`);
  return undefined;
}

function positive(value: unknown, field: string, report: Report) {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return value;
  }
  report(field, `must be a number > 0, not ${show(value)}`);
  return undefined;
}

function jitter(value: unknown, field: string, report: Report) {
  if (typeof value === "boolean") return value;
  if (typeof value === "number" && value >= 0 && value <= 1) return value;
  report(field, `must be true, false or a fraction 0..1, not ${show(value)}`);
  return undefined;
}

function retryOn(
  value: unknown,
  field: string,
  report: Report,
): RetryClass[] | undefined {
  if (!Array.isArray(value)) {
    report(field, `must be a list of retry classes, not ${kindOf(value)}`);
    return undefined;
  }
  const classes: RetryClass[] = [];
  value.forEach((item, i) => {
    const known =
      typeof item === "string" &&
      (NAMED_CLASSES.includes(item) || EXIT_CODE_CLASS.test(item));
    if (known) {
      classes.push(item as RetryClass);
    } else {
      report(
        `${field}[${i}]`,
        `unknown retry class ${show(item)} (known: ` +
          `${NAMED_CLASSES.join(", ")}, exit_code:N)`,
      );
    }
  });
  return classes.length === value.length ? classes : undefined;
}
