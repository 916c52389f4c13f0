/**
 * Small checks for definition fields. Each takes the raw value, the field
 * path and a reporter; it returns the normalized value, or undefined after
 * reporting what is wrong.
 */
import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";
import { setOwn } from "./set-own.js";

/** Records one problem on a field. */
export type Report = (field: string, message: string) => void;

/** The pattern of workflow names and task ids. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** True for a plain JSON object (not a list, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short description of a value's kind, for messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

export function stringField(
  value: unknown,
  field: string,
  report: Report,
): string | undefined {
  if (typeof value === "string") return value;
  report(field, `must be a string, not ${kindOf(value)}`);
  return undefined;
}

/** A name or id: a non-empty string of `[A-Za-z0-9_.-]`. */
export function idField(
  value: unknown,
  field: string,
  report: Report,
): string | undefined {
  const text = stringField(value, field, report);
  if (text === undefined) return undefined;
  if (text.length > MAX_ID_CHARS) {
    report(
      field,
      `must be at most ${MAX_ID_CHARS} characters, not ${text.length}`,
    );
    return undefined;
  }
  if (ID_PATTERN.test(text)) return text;
  report(field, `"${text}" may contain only letters, digits, "_", "." and "-"`);
  return undefined;
}

/**
 * The longest workflow name or task id: every run view, event and log
 * line repeats it, and the API refuses longer workflow names in its
 * requests (control-plane/workflows/workflow-name.ts).
 */
export const MAX_ID_CHARS = 200;

export function positiveNumber(
  value: unknown,
  field: string,
  report: Report,
): number | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return value;
  }
  report(field, `must be a positive number of seconds, not ${show(value)}`);
  return undefined;
}

/**
 * The longest task timeout or lost_after, in seconds: agents get them in
 * milliseconds as a 32-bit integer (about 24.8 days).
 */
export const MAX_TASK_SECONDS = 2_147_483;

/**
 * A task's seconds that travel to its agent (timeout, lost_after):
 * positive, and at most {@link MAX_TASK_SECONDS}.
 */
export function taskSeconds(
  value: unknown,
  field: string,
  report: Report,
): number | undefined {
  return secondsAtMost(value, field, report, MAX_TASK_SECONDS, "about 24 days");
}

/**
 * The longest run timeout, in seconds: ten years of 365.25 days. A run's
 * deadline is a PostgreSQL timestamp, which ends in the year 294276; a
 * longer timeout is no deadline at all, and is said so.
 */
export const MAX_RUN_SECONDS = 315_576_000;

/** A run's `timeout`: positive, and at most {@link MAX_RUN_SECONDS}. */
export function runSeconds(
  value: unknown,
  field: string,
  report: Report,
): number | undefined {
  return secondsAtMost(
    value,
    field,
    report,
    MAX_RUN_SECONDS,
    "ten years; leave it out for no timeout",
  );
}

/** A positive number of seconds up to `max`; `said` explains the bound. */
function secondsAtMost(
  value: unknown,
  field: string,
  report: Report,
  max: number,
  said: string,
): number | undefined {
  const seconds = positiveNumber(value, field, report);
  if (seconds === undefined || seconds <= max) return seconds;
  report(field, `must be at most ${max} seconds (${said}), not ${show(value)}`);
  return undefined;
}

/**
 * The largest integer a definition may hold where one is asked for: the
 * columns that keep them (priority, concurrency, attempts) are 32-bit,
 * and a larger value failed the run's insert as an internal error.
 */
export const MAX_INTEGER = 2_147_483_647;

/**
 * The most attempts a task may have, `retries` + 1 or `retry.max_attempts`:
 * a retry of the run gives a task as many again on top of those it used,
 * which must still fit the column.
 */
export const MAX_ATTEMPTS = 1_000_000;

export function integerAtLeast(
  value: unknown,
  min: number,
  field: string,
  report: Report,
  max = MAX_INTEGER,
): number | undefined {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    report(field, `must be an integer >= ${min}, not ${show(value)}`);
    return undefined;
  }
  if ((value as number) > max) {
    report(field, `must be at most ${max}, not ${show(value)}`);
    return undefined;
  }
  return value as number;
}

export function integerField(
  value: unknown,
  field: string,
  report: Report,
): number | undefined {
  if (!Number.isSafeInteger(value)) {
    report(field, `must be an integer, not ${show(value)}`);
    return undefined;
  }
  if (Math.abs(value as number) > MAX_INTEGER) {
    report(
      field,
      `must be from -${MAX_INTEGER} to ${MAX_INTEGER}, not ${show(value)}`,
    );
    return undefined;
  }
  return value as number;
}

export function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
  report: Report,
): T | undefined {
  if (allowed.includes(value as T)) return value as T;
  report(field, `must be one of ${allowed.join(", ")}, not ${show(value)}`);
  return undefined;
}

/**
 * A map of scalar values, written as strings: YAML `gpu: true` becomes
 * "true", `count: 2` becomes "2". Null, lists and objects are problems.
 */
export function stringMap(
  value: unknown,
  field: string,
  report: Report,
  keyPattern?: { pattern: RegExp; says: string },
): Record<string, string> | undefined {
  if (!isObject(value)) {
    report(field, `must be a map of names to values, not ${kindOf(value)}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const [key, item] of Object.entries(value)) {
    if (keyPattern && !keyPattern.pattern.test(key)) {
      report(`${field}.${key}`, `key "${key}" ${keyPattern.says}`);
      ok = false;
    } else if (["string", "number", "boolean"].includes(typeof item)) {
      setOwn(out, key, String(item));
    } else {
      report(`${field}.${key}`, `must be a string, number or boolean`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

/** A value as it appears in messages: JSON, shortened. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  // JSON has no word for these (JSON.stringify writes null): 1e400 in a
  // definition parses to Infinity.
  if (typeof value === "number" && !Number.isFinite(value)) {
    return String(value);
  }
  const text = JSON.stringify(value as JsonValue) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
