import type { JsonObject } from "../plugin-sdk/index.js";
import { kindOf, plainJson, plainJsonObject } from "./plain-json.js";
import { SdkError } from "./sdk-error.js";

/**
 * Checks for builder fields. Each throws an {@link SdkError} whose message
 * starts with `where` (`task "load"`, `workflow "etl"`) and names the
 * field, so a mistake is reported where the code makes it rather than
 * when the server reads the definition.
 */
export interface FieldChecks {
  fail(field: string, message: string): never;
  id(value: unknown, field: string): string;
  text(value: unknown, field: string): string;
  seconds(value: unknown, field: string): number;
  integer(value: unknown, field: string, min?: number): number;
  oneOf<T extends string>(
    value: unknown,
    allowed: readonly T[],
    field: string,
  ): T;
  boolean(value: unknown, field: string): boolean;
  stringMap(
    value: unknown,
    field: string,
    keys?: RegExp,
  ): Record<string, string>;
  object(value: unknown, field: string): JsonObject;
}

/** Workflow names and task ids (SPEC §3). */
export const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variable names, for `env` maps. */
export const ENV_NAME_PATTERN: RegExp = ENV_NAME;

/** Checks that report as `where field: message`. */
export function fieldChecks(where: string): FieldChecks {
  const fail = (field: string, message: string): never => {
    throw new SdkError("invalid_workflow", `${where} ${field}: ${message}`, {
      field,
    });
  };
  const checks: FieldChecks = {
    fail,
    id(value, field) {
      const text = checks.text(value, field);
      if (!ID_PATTERN.test(text)) {
        fail(
          field,
          `${JSON.stringify(text)} may contain only letters, digits, ` +
            `"_", "." and "-"`,
        );
      }
      return text;
    },
    text(value, field) {
      if (typeof value === "string") return value;
      return fail(field, `must be a string, not ${kindOf(value)}`);
    },
    seconds(value, field) {
      if (typeof value === "number" && Number.isFinite(value) && value > 0) {
        return value;
      }
      return fail(
        field,
        `must be a positive number of seconds, not ${show(value)}`,
      );
    },
    integer(value, field, min) {
      const ok =
        Number.isSafeInteger(value) &&
        (min === undefined || (value as number) >= min);
      if (ok) return value as number;
      const bound = min === undefined ? "" : ` >= ${min}`;
      return fail(field, `must be an integer${bound}, not ${show(value)}`);
    },
    oneOf(value, allowed, field) {
      if (allowed.includes(value as never)) return value as never;
      return fail(
        field,
        `must be one of ${allowed.join(", ")}, not ${show(value)}`,
      );
    },
    boolean(value, field) {
      if (typeof value === "boolean") return value;
      return fail(field, `must be true or false, not ${show(value)}`);
    },
    stringMap(value, field, keys) {
      const map = checks.object(value, field);
      for (const [key, item] of Object.entries(map)) {
        if (keys && !keys.test(key)) {
          fail(`${field}.${key}`, "is not an environment variable name");
        }
        if (typeof item !== "string") {
          fail(`${field}.${key}`, `must be a string, not ${kindOf(item)}`);
        }
      }
      return map as Record<string, string>;
    },
    object(value, field) {
      try {
        return plainJsonObject(value, field);
      } catch (error) {
        if (error instanceof SdkError)
          fail(error.field ?? field, afterField(error));
        throw error;
      }
    },
  };
  return checks;
}

/** Copies `value` as JSON; problems are reported by `checks`. */
export function jsonField(checks: FieldChecks, value: unknown, field: string) {
  try {
    return plainJson(value, field);
  } catch (error) {
    if (error instanceof SdkError)
      checks.fail(error.field ?? field, afterField(error));
    throw error;
  }
}

// plainJson's messages start with the field; the checks prefix it again.
function afterField(error: SdkError): string {
  const prefix = `${error.field}: `;
  return error.message.startsWith(prefix)
    ? error.message.slice(prefix.length)
    : error.message;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : kindOrValue(value);
}

function kindOrValue(value: unknown): string {
  return typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : kindOf(value);
}
