import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";
import { protoKeyPaths } from "../workflow/index.js";

/** A command-line mistake; the message names the flag. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Collects repeated `--flag KEY=VALUE` options into an object. With
 * `typed`, a value that parses as JSON (`3`, `true`, `[1,2]`) keeps that
 * type; anything else is a string.
 */
export function collectKeyValues(flag: string, typed: boolean) {
  return (raw: string, previous: JsonObject = {}): JsonObject => {
    const eq = raw.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`${flag}: expected KEY=VALUE, got "${raw}"`);
    }
    const key = raw.slice(0, eq);
    const text = raw.slice(eq + 1);
    if (key === "__proto__" || key === "constructor" || key === "prototype") {
      throw new UsageError(`${flag}: "${key}" cannot be a name`);
    }
    const value = typed ? parseTyped(flag, key, text) : text;
    return { ...previous, [key]: value };
  };
}

/**
 * A JSON value keeps its type (`n=3`, `on=true`, `l=[1,2]`); other text is
 * a string. Text that opens a list or object but is not valid JSON is a
 * mistake to report, not a string to pass on.
 */
function parseTyped(flag: string, key: string, text: string): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    if (/^\s*[[{]/.test(text)) {
      throw new UsageError(
        `${flag} ${key}: looks like JSON but does not parse (${(error as Error).message}); quote it to pass a string`,
      );
    }
    return text;
  }
  // The Struct that carries params drops such a key on the way.
  const [protoKey] = protoKeyPaths(value);
  if (protoKey !== undefined) {
    throw new UsageError(
      `${flag} ${key}${protoKey}: "__proto__" cannot be a key; rename it`,
    );
  }
  return value;
}

/**
 * Parses a positive integer flag, naming the flag when it is not one.
 * Decimal digits only: `0x10` and `1e3` are numbers to JavaScript, not
 * what a person typing a count means.
 */
export function positiveInteger(flag: string, max = MAX_INT32) {
  return integerBetween(flag, { min: 1, max });
}

/** A whole-number flag within bounds, refused naming the flag. */
export function integerBetween(
  flag: string,
  { min, max }: { min: number; max: number },
) {
  return (raw: string): number => {
    const n = decimal(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(
        `${flag}: expected a whole number from ${min} to ${max}, got "${raw}"`,
      );
    }
    return n;
  };
}

/** A path flag's value: refused when empty (`--state-dir ""`). */
export function nonEmptyPath(flag: string) {
  return (raw: string): string => {
    if (raw.trim() === "") {
      throw new UsageError(`${flag}: expected a path, got an empty value`);
    }
    return raw;
  };
}

/** The number decimal digits write, or NaN for anything else. */
export function decimal(raw: string): number {
  return /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
}

/** Counts and milliseconds travel as int32 in the API. */
const MAX_INT32 = 2_147_483_647;

/** Where the CLI looks for a control plane when told nothing. */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:7070";

/**
 * The server URL: the flag, else DEERFLOW_SERVER, else the default. A
 * value that is not an http(s) URL is a UsageError naming its source.
 */
export function serverUrl(flag: string | undefined): string {
  const env = process.env.DEERFLOW_SERVER;
  const [source, raw] =
    flag !== undefined
      ? ["--server", flag]
      : env
        ? ["DEERFLOW_SERVER", env]
        : ["", DEFAULT_SERVER_URL];
  if (!isHttpUrl(raw)) {
    throw new UsageError(
      `${source}: "${raw}" is not a URL (e.g. ${DEFAULT_SERVER_URL})`,
    );
  }
  return raw;
}

function isHttpUrl(raw: string): boolean {
  try {
    const { protocol } = new URL(raw);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}
