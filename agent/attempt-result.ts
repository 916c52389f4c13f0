import { fromJson, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import type { ResultSchema } from "../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import { type JsonObject, TaskError } from "../plugin-sdk/index.js";
import {
  findTooDeep,
  PROTO_KEY_MESSAGE,
  protoKeyPaths,
  replaceNulIn,
  tooDeepMessage,
} from "../workflow/index.js";
import type { AbortReason } from "./attempt.js";

/** How a plugin's execute ended, as the attempt saw it. */
export type Settled =
  /** execute resolved. */
  | { kind: "resolved"; value: unknown }
  /** execute threw (or the attempt could not start it). */
  | { kind: "threw"; error: unknown }
  /** The config did not render; execute never ran. */
  | { kind: "config"; error: unknown }
  /** The plugin did not stop within the grace after an abort. */
  | { kind: "abandoned" };

/** The Result fields that depend on how the attempt ended. */
export type SettledFields = Pick<
  MessageInitShape<typeof ResultSchema>,
  "outcome" | "exitCode" | "error" | "retryable" | "retryClass" | "retryAfterMs"
>;

/**
 * Maps the way an attempt ended to its Result fields. An abort decides the
 * outcome even when the plugin then resolved: a task that was killed or
 * timed out did not succeed, whatever it printed on its way out.
 */
export function settledResult(
  settled: Settled,
  reason: AbortReason | undefined,
  timeoutMs: number,
): SettledFields {
  if (settled.kind === "config") {
    return {
      outcome: AttemptOutcome.FAILED,
      // Both the renderer and the schema check name the field.
      error: messageOf(settled.error),
      retryable: false,
      retryClass: "error",
    };
  }
  const exitCode = exitCodeOf(settled);
  if (reason !== undefined) {
    const fields = abortedResult(reason, timeoutMs);
    if (settled.kind === "abandoned") {
      fields.error = `${fields.error}; the plugin did not stop in time`;
    }
    return { ...fields, exitCode };
  }
  if (settled.kind === "threw") {
    const error = settled.error;
    const taskError = error instanceof TaskError ? error : undefined;
    return {
      outcome: AttemptOutcome.FAILED,
      exitCode,
      error: messageOf(error),
      // Strictly a boolean: a plugin's other value (a string, an object
      // with getters) would otherwise travel in the Result.
      retryable: taskError?.retryable !== false,
      retryClass: cutText(
        textOf(taskError?.retryClass ?? "error"),
        MAX_RETRY_CLASS_CHARS,
      ),
      retryAfterMs: retryAfterOf(taskError),
    };
  }
  if (settled.kind === "resolved" && exitCode === undefined) {
    const returned = (settled.value as { exitCode?: unknown } | undefined)
      ?.exitCode;
    if (returned !== undefined && returned !== null) {
      return {
        outcome: AttemptOutcome.FAILED,
        error: `exitCode: must be a whole number from ${INT32_MIN} to ${INT32_MAX}, not ${shown(returned)}`,
        retryable: false,
        retryClass: "error",
      };
    }
  }
  return { outcome: AttemptOutcome.SUCCESS, exitCode };
}

/** A returned value as the error names it: a string quoted, cut short. */
function shown(value: unknown): string {
  const text =
    typeof value === "string" ? JSON.stringify(value) : textOf(value);
  return cutText(text, 100);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function abortedResult(
  reason: AbortReason,
  timeoutMs: number,
): Required<Omit<SettledFields, "exitCode" | "retryAfterMs">> {
  switch (reason) {
    case "timeout":
      return {
        outcome: AttemptOutcome.TIMED_OUT,
        error: `timed out after ${timeoutMs} ms`,
        retryable: true,
        retryClass: "timeout",
      };
    case "killed":
      return {
        outcome: AttemptOutcome.KILLED,
        error: "killed",
        retryable: false,
        retryClass: "",
      };
    case "lost":
    case "stale":
    case "drained":
    case "revoked":
    case "closed":
      return {
        outcome: AttemptOutcome.LOST,
        error: ABORT_MESSAGES[reason],
        retryable: true,
        retryClass: "lost",
      };
  }
}

const ABORT_MESSAGES = {
  lost: "lease lost",
  stale: "lease stale",
  drained: "killed when the agent's drain grace period ran out",
  revoked: "the lease was revoked",
  closed: "killed when the agent was stopped at once (a second signal)",
};

function exitCodeOf(settled: Settled): number | undefined {
  if (settled.kind === "resolved") {
    const value = settled.value as { exitCode?: unknown } | undefined;
    return integerOrUndefined(value?.exitCode);
  }
  if (settled.kind === "threw" && settled.error instanceof TaskError) {
    return integerOrUndefined(settled.error.exitCode);
  }
  return undefined;
}

/** An exit code the Result can carry (an int32), or undefined. */
function integerOrUndefined(value: unknown): number | undefined {
  return Number.isInteger(value) &&
    (value as number) >= INT32_MIN &&
    (value as number) <= INT32_MAX
    ? (value as number)
    : undefined;
}

/** Longest error text a Result carries, in UTF-16 code units. */
export const MAX_ERROR_CHARS = 65_536;

/**
 * An error text cut to {@link MAX_ERROR_CHARS}, saying how long it was:
 * an attempt's error is shown in tables and stored three times (task,
 * attempt, event), and a plugin that threw megabytes made a Result
 * larger than a request may be, which the agent could never send.
 */
export function cutError(text: string): string {
  if (text.length <= MAX_ERROR_CHARS) return text;
  // Never half a surrogate pair: PostgreSQL refuses a lone one.
  return `${cutText(text, MAX_ERROR_CHARS)} (cut: ${text.length} characters in all)`;
}

/** Retry-After as the wire carries it: whole milliseconds, 0 for none. */
function retryAfterOf(error: TaskError | undefined): number {
  const ms = error?.retryAfterMs;
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return 0;
  return Math.min(Math.round(ms), 2_147_483_647);
}

function messageOf(error: unknown): string {
  try {
    return textOf(error instanceof Error ? error.message : error);
  } catch (unreadable) {
    return `the plugin threw something unreadable: ${textOf(unreadable)}`;
  }
}

/**
 * A plugin's value as text, whatever it is: a number, an object without
 * a prototype, one whose toString throws.
 */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return "(a value that cannot be shown as text)";
  }
}

/**
 * `text` cut to at most `max` UTF-16 units, an ellipsis included, never
 * inside a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Longest retry class a Result carries ("error", "5xx", "429", ...). */
const MAX_RETRY_CLASS_CHARS = 256;

/** Largest output object sent, in bytes of JSON text (UTF-8). */
export const MAX_JSON_OBJECT_BYTES = 4 * 1024 * 1024;

/**
 * Largest output object sent, in bytes as the Struct a Result carries
 * it in. A Struct is larger than its JSON (a list of small numbers five
 * times), and a Result must stay well under the control plane's 16 MiB
 * request limit, or the agent could never send it.
 */
export const MAX_STRUCT_BYTES = 8 * 1024 * 1024;

/** Outputs smaller than this as JSON are well under MAX_STRUCT_BYTES. */
const STRUCT_CHECK_FROM_BYTES = 256 * 1024;
/** JSON texts this short are measured by their length alone. */
const SHORT_JSON_CHARS = 64 * 1024;

/**
 * A plugin's output or log fields as plain JSON. Values JSON cannot carry
 * (undefined, functions) drop out as JSON.stringify drops them; a value
 * that cannot be serialized at all (a BigInt, a cycle), or is too large or
 * nested too deep for the control plane to accept, becomes `{}` with the
 * reason under `_error`, so one bad value never breaks the stream.
 */
export function toJsonObject(
  value: unknown,
  maxBytes = MAX_JSON_OBJECT_BYTES,
): JsonObject {
  try {
    const text = JSON.stringify(value ?? {});
    // Counted in UTF-8 only when it could matter: a text of n UTF-16
    // units is at most 3n bytes, far under both limits when short.
    const bytes =
      text.length <= SHORT_JSON_CHARS ? text.length : Buffer.byteLength(text);
    if (bytes > maxBytes) {
      return { _error: `larger than ${maxBytes} bytes as JSON` };
    }
    const parsed: unknown = JSON.parse(text);
    const deep = findTooDeep(parsed);
    if (deep !== undefined)
      return { _error: `at ${deep || "the top"}: ${tooDeepMessage()}` };
    // The Struct that carries an output drops such a key on the way.
    const [protoKey] = protoKeyPaths(parsed);
    if (protoKey !== undefined)
      return { _error: `at ${protoKey}: ${PROTO_KEY_MESSAGE}` };
    // PostgreSQL stores no NUL; binary bytes in a stdout tail or an HTTP
    // body are kept as U+FFFD, as in log lines, not a failed attempt.
    const storable = replaceNulIn(parsed);
    if (
      typeof storable !== "object" ||
      storable === null ||
      Array.isArray(storable)
    ) {
      return {};
    }
    if (
      bytes > STRUCT_CHECK_FROM_BYTES &&
      structBytes(storable as JsonObject) > MAX_STRUCT_BYTES
    ) {
      return { _error: `larger than ${MAX_STRUCT_BYTES} bytes as a Struct` };
    }
    return storable as JsonObject;
  } catch (error) {
    return { _error: `not JSON: ${messageOf(error)}` };
  }
}

/** The size of a JSON object as a google.protobuf.Struct. */
function structBytes(value: JsonObject): number {
  return toBinary(StructSchema, fromJson(StructSchema, value)).length;
}
