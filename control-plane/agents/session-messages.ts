/**
 * Conversions between the agent session's proto messages and the
 * control plane's own types, in one place.
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type LeaseRef as LeaseRefMessage,
  LeaseRefSchema,
  type Result,
} from "../../gen/deerflow/v1/agent_pb.js";
import {
  AttemptOutcome,
  type LogLine,
  type MetricPoint,
} from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { replaceNul, replaceNulIn } from "../../workflow/index.js";
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

export function leaseRef(ref: LeaseRef): LeaseRefMessage {
  return create(LeaseRefSchema, {
    leaseId: ref.leaseId,
    fencingToken: BigInt(ref.fencingToken),
  });
}

export function fromLeaseRef(message: LeaseRefMessage): LeaseRef {
  return {
    leaseId: message.leaseId,
    fencingToken: Number(message.fencingToken),
  };
}

/** The Assignment message for a claimed lease. */
export function toAssignment(a: ClaimedAssignment, ackDeadlineMs: number) {
  return {
    lease: leaseRef(a),
    runId: a.runId,
    taskId: a.taskId,
    attempt: a.attempt,
    type: a.type,
    config: a.config,
    context: a.context,
    env: a.env,
    timeoutMs: a.timeoutMs,
    ackDeadlineMs,
    onAgentDisconnect: a.onAgentDisconnect,
    leaseTtlMs: a.leaseTtlMs,
    secrets: a.secrets ?? {},
  };
}

/** A Result as the lease code records it; undefined without an outcome. */
export function toAttemptResult(
  result: Result,
  ref: LeaseRef,
): AttemptResult | undefined {
  const outcome = OUTCOMES[result.outcome];
  if (!outcome) return undefined;
  // PostgreSQL stores no NUL: one in an output is kept as U+FFFD, as in
  // log lines, rather than failing the stored result (and with it every
  // result the agent sends after it).
  const output = replaceNulIn(result.output as JsonObject | undefined);
  return {
    ...ref,
    outcome,
    exitCode: result.exitCode,
    output,
    error: replaceNul(result.error),
    retryable: result.retryable,
    retryClass: replaceNul(result.retryClass),
    retryAfterMs: result.retryAfterMs > 0 ? result.retryAfterMs : undefined,
    startedAt: result.startedAt ? timestampDate(result.startedAt) : undefined,
    finishedAt: result.finishedAt
      ? timestampDate(result.finishedAt)
      : undefined,
  };
}

export function toLogLines(
  lines: readonly LogLine[],
  now: Date,
): TaskLogLine[] {
  return lines.map((l) => ({
    sequence: Number(l.sequence),
    time: l.time ? timestampDate(l.time) : now,
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
    time: p.time ? timestampDate(p.time) : now,
  }));
}
