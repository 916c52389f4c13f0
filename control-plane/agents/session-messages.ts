/**
 * Conversions between the agent session's proto messages and the
 * control plane's own types, in one place.
 */
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Assignment,
  AssignmentSchema,
  type LeaseRef as LeaseRefMessage,
  type Result,
} from "../../gen/deerflow/v1/agent_pb.js";
import {
  AttemptOutcome,
  type LogLine,
  type MetricPoint,
} from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { replaceNul, replaceNulIn } from "../../workflow/index.js";
import { invalidArgument } from "../api/connect-errors.js";
import { allocatedResources } from "../dispatch/agent-resources.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import type { LeaseRef } from "../leases/acknowledge-lease.js";
import type { AttemptResult } from "../leases/record-result.js";
import type { TaskLogLine, TaskMetricPoint } from "../logs/append-task-logs.js";
import type { AttemptOutcomeName } from "../scheduler/states.js";

const OUTCOMES: Partial<Record<AttemptOutcome, AttemptOutcomeName>> = {
  [AttemptOutcome.SUCCESS]: "SUCCESS",
  [AttemptOutcome.FAILED]: "FAILED",
  [AttemptOutcome.TIMED_OUT]: "TIMED_OUT",
  [AttemptOutcome.LOST]: "LOST",
  [AttemptOutcome.KILLED]: "KILLED",
};

/** The LeaseRef message, as `create` makes it, without its reflection. */
export function leaseRef(ref: LeaseRef): LeaseRefMessage {
  return {
    $typeName: "deerflow.v1.LeaseRef",
    leaseId: ref.leaseId,
    fencingToken: BigInt(ref.fencingToken),
  };
}

export function fromLeaseRef(message: LeaseRefMessage): LeaseRef {
  return {
    leaseId: message.leaseId,
    fencingToken: Number(message.fencingToken),
  };
}

/**
 * The Assignment message for a claimed lease; with `jsonValues` (the
 * agent's Hello said it reads them) its config and context go as JSON
 * bytes rather than Structs.
 */
export function toAssignment(
  a: ClaimedAssignment,
  ackDeadlineMs: number,
  jsonValues = false,
) {
  return {
    lease: leaseRef(a),
    runId: a.runId,
    taskId: a.taskId,
    attempt: a.attempt,
    type: a.type,
    ...(jsonValues
      ? { configJson: jsonBytes(a.config), contextJson: jsonBytes(a.context) }
      : { config: a.config, context: a.context }),
    env: a.env,
    timeoutMs: a.timeoutMs,
    ackDeadlineMs,
    onAgentDisconnect: a.onAgentDisconnect,
    leaseTtlMs: a.leaseTtlMs,
    secrets: a.secrets ?? {},
    ...(a.resources ? { resources: allocatedResources(a.resources) } : {}),
  };
}

/**
 * {@link toAssignment} as the Assignment message `create` makes of it.
 * One per task, so the common case (no resources) is built as a plain
 * object of the same shape, without create's reflection; a test compares
 * the two.
 */
export function assignmentMessage(
  a: ClaimedAssignment,
  ackDeadlineMs: number,
  jsonValues = false,
): Assignment {
  if (a.resources) {
    return create(AssignmentSchema, toAssignment(a, ackDeadlineMs, jsonValues));
  }
  const message: Assignment = {
    $typeName: "deerflow.v1.Assignment",
    lease: leaseRef(a),
    runId: a.runId,
    taskId: a.taskId,
    attempt: a.attempt,
    type: a.type,
    env: a.env,
    timeoutMs: a.timeoutMs,
    ackDeadlineMs,
    onAgentDisconnect: a.onAgentDisconnect,
    leaseTtlMs: a.leaseTtlMs,
    secrets: a.secrets ?? {},
    configJson: jsonValues ? jsonBytes(a.config) : new Uint8Array(0),
    contextJson: jsonValues ? jsonBytes(a.context) : new Uint8Array(0),
  };
  if (!jsonValues) {
    message.config = a.config;
    message.context = a.context;
  }
  return message;
}

const utf8 = new TextEncoder();

function jsonBytes(value: JsonObject): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

/** A Result as the lease code records it; undefined without an outcome. */
export function toAttemptResult(
  result: Result,
  ref: LeaseRef,
  now: Date = new Date(),
): AttemptResult | undefined {
  const outcome = OUTCOMES[result.outcome];
  if (!outcome) return undefined;
  // PostgreSQL stores no NUL: one in an output is kept as U+FFFD, as in
  // log lines, rather than failing the stored result (and with it every
  // result the agent sends after it).
  const output = replaceNulIn(result.output as JsonObject | undefined);
  // Named one by one: an object literal that starts with a spread and
  // goes on takes microseconds in V8, and this runs for every result.
  return {
    leaseId: ref.leaseId,
    fencingToken: ref.fencingToken,
    outcome,
    exitCode: result.exitCode,
    output,
    error: replaceNul(result.error),
    retryable: result.retryable,
    retryClass: replaceNul(result.retryClass),
    retryAfterMs: result.retryAfterMs > 0 ? result.retryAfterMs : undefined,
    startedAt: result.startedAt ? agentTime(result.startedAt, now) : undefined,
    finishedAt: result.finishedAt
      ? agentTime(result.finishedAt, now)
      : undefined,
  };
}

/**
 * A time an agent sent, or `now` (when the control plane received it)
 * for one it left out or that no database column could hold: such a
 * time is the agent's bug, and the line or point is still worth keeping.
 */
function agentTime(time: Timestamp | undefined, now: Date): Date {
  if (time === undefined) return now;
  const date = timestampDate(time);
  const ms = date.getTime();
  return Number.isFinite(ms) && ms >= 0 && ms <= LATEST_AGENT_TIME_MS
    ? date
    : now;
}

/** 9999-12-31T23:59:59.999Z: later than any time an agent means. */
const LATEST_AGENT_TIME_MS = 253_402_300_799_999;

export function toLogLines(
  lines: readonly LogLine[],
  now: Date,
  numbering: LineNumbering = AGENT_LINES,
): TaskLogLine[] {
  return lines.map((l, i) => ({
    sequence: lineSequence(l.sequence, `${numbering.field}[${i}].sequence`),
    time: agentTime(l.time, now),
    stream: replaceNul(l.stream) || "log",
    level: replaceNul(l.level),
    message: replaceNul(l.message),
    fields: replaceNulIn(l.fields as JsonObject | undefined),
  }));
}

export function toMetricPoints(
  points: readonly MetricPoint[],
  now: Date,
): TaskMetricPoint[] {
  return points.map((p) => ({
    name: replaceNul(p.name),
    kind: replaceNul(p.kind),
    value: p.value,
    labels: replaceNulIn({ ...p.labels }),
    time: agentTime(p.time, now),
  }));
}

/** Where a message's log lines are, for errors: "log_chunk.lines". */
export interface LineNumbering {
  field: string;
}

const AGENT_LINES: LineNumbering = { field: "log_chunk.lines" };

/**
 * A log line's sequence: a whole number from 1 that JavaScript and
 * bigint both hold. Readers page from `after_sequence`, 0 meaning "from
 * the start", so a line numbered 0 would be stored and never read.
 */
function lineSequence(sequence: bigint, field: string): number {
  if (sequence === 0n) {
    throw invalidArgument(
      field,
      "is required: number each attempt's lines from 1",
    );
  }
  if (sequence < 1n || sequence > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(
      field,
      `must be from 1 to ${Number.MAX_SAFE_INTEGER}, not ${sequence}`,
    );
  }
  return Number(sequence);
}
