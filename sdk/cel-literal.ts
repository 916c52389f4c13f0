import { celText, isExpression } from "./expression.js";
import { kindOf } from "./plain-json.js";
import { SdkError } from "./sdk-error.js";

// A variable and member accesses only: it needs no parentheses.
const SIMPLE_PATH =
  /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*$/;

/**
 * Writes a JavaScript value as a CEL literal, so that a value spliced into
 * an expression by `expr` stays a value: a string becomes a quoted string
 * literal (never code), numbers, booleans and null stand for themselves,
 * lists and objects become CEL lists and maps. An {@link Expression} is
 * spliced as its text.
 */
export function celLiteral(value: unknown, field = "value"): string {
  if (isExpression(value)) {
    const text = celText(value);
    return SIMPLE_PATH.test(text) ? text : `(${text})`;
  }
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new SdkError(
        "invalid_workflow",
        `${field}: ${value} has no CEL literal`,
        {
          field,
        },
      );
    }
    // CEL reads 3 as an int and 3.5 as a double; both compare with ints.
    return String(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => celLiteral(v, `${field}[${i}]`)).join(", ")}]`;
  }
  if (
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) => `${JSON.stringify(k)}: ${celLiteral(v, `${field}.${k}`)}`,
      );
    return `{${entries.join(", ")}}`;
  }
  throw new SdkError(
    "invalid_workflow",
    `${field}: ${kindOf(value)} has no CEL literal`,
    { field },
  );
}
