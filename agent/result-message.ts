/**
 * The Result message of an attempt, and its times, built as plain objects
 * of the shape protobuf-es's `create` gives them. One goes out per task,
 * and `create` walks the schema by reflection for each message and each
 * Timestamp; this does not. A test compares the two.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { LeaseRef, Result } from "../gen/deerflow/v1/agent_pb.js";
import type { SettledFields } from "./attempt-result.js";

/** What a Result holds besides how the attempt ended. */
export interface ResultParts {
  lease: LeaseRef;
  output: JsonObject;
  startedAtMs: number;
  finishedAtMs: number;
  /** The error text to send (redacted), for `ended.error`. */
  error: string;
}

/** `create(ResultSchema, { ...parts, ...ended, error })`, without it. */
export function resultMessage(
  ended: SettledFields,
  parts: ResultParts,
): Result {
  const result: Result = {
    $typeName: "deerflow.v1.Result",
    outcome: ended.outcome ?? 0,
    error: parts.error,
    retryable: ended.retryable ?? false,
    retryClass: ended.retryClass ?? "",
    retryAfterMs: ended.retryAfterMs ?? 0,
    lease: parts.lease,
    output: parts.output,
    startedAt: timestampOf(parts.startedAtMs),
    finishedAt: timestampOf(parts.finishedAtMs),
  };
  // Optional: set only when there is one, as create leaves it out.
  if (ended.exitCode !== undefined) result.exitCode = ended.exitCode;
  return result;
}

/** `timestampFromMs(ms)`, without `create`. */
export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(seconds),
    nanos: (ms - seconds * 1000) * 1_000_000,
  };
}
