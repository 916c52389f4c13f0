import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";

/**
 * Turns a value a driver read into one that survives JSON unchanged, so
 * the output means the same on the server as on the agent: bigints and
 * numbers JSON cannot hold (NaN, ±Infinity, PostgreSQL's infinite dates)
 * become strings, dates ISO 8601 strings (an invalid one null), bytes
 * base64. Drivers already give int8/BIGINT and numeric/DECIMAL as
 * strings, which keeps their precision.
 */
export function toJsonSafe(value: unknown): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "undefined":
      return null;
    case "object":
      return objectToJson(value);
    default:
      return String(value);
  }
}

/** One row as a JSON object; a column named `__proto__` stays a column. */
export function rowToJson(row: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(row)) {
    Object.defineProperty(out, key, {
      value: toJsonSafe(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function objectToJson(value: object | null): JsonValue {
  if (value === null) return null;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(
      value.buffer,
      value.byteOffset,
      value.byteLength,
    ).toString("base64");
  }
  if (Array.isArray(value)) return value.map(toJsonSafe);
  return rowToJson(value as Record<string, unknown>);
}
