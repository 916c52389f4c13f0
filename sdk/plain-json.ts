import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";
import { isExpression } from "./expression.js";
import { SdkError } from "./sdk-error.js";

/**
 * Copies a value into plain JSON, as a YAML or JSON parser would have
 * produced it: keys whose value is `undefined` are left out (so optional
 * options never show up as keys), and anything JSON cannot hold (a
 * function, a symbol, a bigint, NaN, a Date, a class instance, a cycle)
 * is an error naming `field`. An {@link Expression} (a `ref(...)`)
 * becomes its template `${...}`. Other objects with a `toJSON()` are not
 * asked: a definition must be data the user can see.
 */
export function plainJson(value: unknown, field: string): JsonValue {
  return copy(value, field, new Set());
}

/** {@link plainJson} for a value that must be an object. */
export function plainJsonObject(value: unknown, field: string): JsonObject {
  const copied = plainJson(value, field);
  if (!isJsonObject(copied)) {
    throw invalid(field, `must be an object, not ${kindOf(value)}`);
  }
  return copied;
}

/** True for a plain object (not null, not a list). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function copy(value: unknown, field: string, path: Set<object>): JsonValue {
  if (value === null || typeof value === "string") return value;
  if (isExpression(value)) return String(value);
  if (typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw invalid(field, `must be a finite number, not ${value}`);
  }
  if (typeof value !== "object") {
    throw invalid(field, `must be JSON data, not ${kindOf(value)}`);
  }
  if (path.has(value)) throw invalid(field, "refers to itself (a cycle)");
  path.add(value);
  try {
    return Array.isArray(value)
      ? copyList(value, field, path)
      : copyObject(value, field, path);
  } finally {
    path.delete(value);
  }
}

function copyList(list: unknown[], field: string, path: Set<object>) {
  return list.map((item, i) => {
    if (item === undefined) {
      throw invalid(`${field}[${i}]`, "is undefined (JSON has no undefined)");
    }
    return copy(item, `${field}[${i}]`, path);
  });
}

function copyObject(value: object, field: string, path: Set<object>) {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw invalid(field, `must be plain JSON data, not ${kindOf(value)}`);
  }
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    // defineProperty, so that a key named "__proto__" stays a key.
    Object.defineProperty(out, key, {
      value: copy(item, `${field}.${key}`, path),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function invalid(field: string, message: string): SdkError {
  return new SdkError("invalid_workflow", `${field}: ${message}`, { field });
}

/** A short description of a value's kind, for messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  return `a ${typeof value}`;
}
