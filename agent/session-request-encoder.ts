/**
 * The agent's session requests to bytes, byte for byte as protobuf-es's
 * `toBinary` writes them, with the hot kinds written by hand.
 *
 * A busy agent sends an acknowledgement, a result and a share of a
 * credit per task, in batches. `toBinary` finds each field through
 * reflection and writes each sub-message through a fork of its writer:
 * about a third of the agent's CPU on no-op tasks. Written field by field
 * here (see core/proto-writer.ts), they cost a fraction of that. What
 * this code does not know how to write exactly (a hello, metric batches,
 * Structs with fields, unknown fields, int64 outside 0 to 2^53, a value
 * of the wrong type) goes through `toBinary`, which writes it or refuses
 * it as before, so the bytes never differ; a test compares the two.
 */
import { toBinary } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  encodeAsField,
  hasUnknown,
  isInt32,
  isSafeUint64,
  LEN,
  type LeaseRefShape,
  leaseRefFields,
  leaseRefWritable,
  lenFieldSize,
  type ProtoFields,
  type ProtoSink,
  ProtoWriter,
} from "../core/index.js";
import {
  type Acknowledge,
  type Credit,
  type Heartbeat,
  type LogChunk,
  type Reject,
  type Result,
  type SessionRequest,
  SessionRequestSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import type { LogLine } from "../gen/deerflow/v1/run_pb.js";

/** Field numbers of SessionRequest, as in agent.proto. */
const BATCH = 9;
const BATCH_MESSAGES = 1;

/** The request as `toBinary(SessionRequestSchema, request)` writes it. */
export function encodeSessionRequest(request: SessionRequest): Uint8Array {
  const m = request.message;
  if (m.case !== "batch") return encodeOne(request);
  if (hasUnknown(request) || hasUnknown(m.value)) {
    return toBinary(SessionRequestSchema, request);
  }
  const parts = m.value.messages.map(encodeOne);
  let batchSize = 0;
  for (const part of parts) {
    batchSize += lenFieldSize(BATCH_MESSAGES, part.length);
  }
  const out = new ProtoWriter(lenFieldSize(BATCH, batchSize));
  out.tag(BATCH, LEN).varint(batchSize);
  for (const part of parts) {
    out.tag(BATCH_MESSAGES, LEN).varint(part.length).raw(part);
  }
  return out.done();
}

/** One request that is no batch, by hand when it can be. */
function encodeOne(request: SessionRequest): Uint8Array {
  const m = request.message;
  if (hasUnknown(request)) return toBinary(SessionRequestSchema, request);
  switch (m.case) {
    case "acknowledge":
      if (leaseOk(m.value)) return encodeAsField(4, ackFields, m.value);
      break;
    case "credit":
      if (creditOk(m.value)) return encodeAsField(3, creditFields, m.value);
      break;
    case "heartbeat":
      if (heartbeatOk(m.value)) {
        return encodeAsField(2, heartbeatFields, m.value);
      }
      break;
    case "reject":
      if (leaseOk(m.value) && typeof m.value.reason === "string") {
        return encodeAsField(5, rejectFields, m.value);
      }
      break;
    case "result":
      if (resultOk(m.value)) return encodeAsField(8, resultFields, m.value);
      break;
    case "logChunk":
      if (leaseOk(m.value) && m.value.lines.every(lineOk)) {
        return encodeAsField(6, logChunkFields, m.value);
      }
      break;
  }
  return toBinary(SessionRequestSchema, request);
}

/** No unknown fields, and a lease (if any) this code writes exactly. */
function leaseOk(message: { lease?: LeaseRefShape }): boolean {
  return (
    !hasUnknown(message) &&
    (message.lease === undefined || leaseRefWritable(message.lease))
  );
}

function creditOk(credit: Credit): boolean {
  return (
    !hasUnknown(credit) &&
    isInt32(credit.freeSlots) &&
    typeof credit.assignmentsReceived === "bigint" &&
    isSafeUint64(credit.assignmentsReceived) &&
    typeof credit.draining === "boolean"
  );
}

function heartbeatOk(heartbeat: Heartbeat): boolean {
  return !hasUnknown(heartbeat) && heartbeat.leases.every(leaseRefWritable);
}

function resultOk(r: Result): boolean {
  return (
    leaseOk(r) &&
    isInt32(r.outcome) &&
    (r.exitCode === undefined || isInt32(r.exitCode)) &&
    emptyOrNone(r.output) &&
    typeof r.error === "string" &&
    typeof r.retryable === "boolean" &&
    typeof r.retryClass === "string" &&
    timeOk(r.startedAt) &&
    timeOk(r.finishedAt) &&
    isInt32(r.retryAfterMs)
  );
}

function lineOk(line: LogLine): boolean {
  return (
    !hasUnknown(line) &&
    isInt32(line.attempt) &&
    typeof line.sequence === "bigint" &&
    isSafeUint64(line.sequence) &&
    timeOk(line.time) &&
    typeof line.stream === "string" &&
    typeof line.level === "string" &&
    typeof line.message === "string" &&
    emptyOrNone(line.fields)
  );
}

/** A Struct field this code writes: none, or one without fields. */
function emptyOrNone(struct: object | undefined): boolean {
  if (struct === undefined) return true;
  for (const _ in struct) return false;
  return true;
}

function timeOk(time: Timestamp | undefined): boolean {
  return (
    time === undefined ||
    (!hasUnknown(time) &&
      typeof time.seconds === "bigint" &&
      isSafeUint64(time.seconds) &&
      isInt32(time.nanos))
  );
}

function ackFields(sink: ProtoSink, ack: Acknowledge): void {
  if (ack.lease !== undefined) sink.message(1, ack.lease, leaseRefFields);
}

function creditFields(sink: ProtoSink, credit: Credit): void {
  sink.int32(1, credit.freeSlots);
  sink.uint(2, Number(credit.assignmentsReceived));
  sink.bool(3, credit.draining);
}

function heartbeatFields(sink: ProtoSink, heartbeat: Heartbeat): void {
  for (const lease of heartbeat.leases) sink.message(1, lease, leaseRefFields);
}

function rejectFields(sink: ProtoSink, reject: Reject): void {
  if (reject.lease !== undefined) sink.message(1, reject.lease, leaseRefFields);
  sink.string(2, reject.reason);
}

function resultFields(sink: ProtoSink, r: Result): void {
  if (r.lease !== undefined) sink.message(1, r.lease, leaseRefFields);
  sink.int32(2, r.outcome);
  if (r.exitCode !== undefined) sink.presentInt32(3, r.exitCode);
  if (r.output !== undefined) sink.message(4, r.output, noFields);
  sink.string(5, r.error);
  sink.bool(6, r.retryable);
  sink.string(7, r.retryClass);
  if (r.startedAt !== undefined) sink.message(8, r.startedAt, timeFields);
  if (r.finishedAt !== undefined) sink.message(9, r.finishedAt, timeFields);
  sink.int32(10, r.retryAfterMs);
}

function logChunkFields(sink: ProtoSink, chunk: LogChunk): void {
  if (chunk.lease !== undefined) sink.message(1, chunk.lease, leaseRefFields);
  for (const line of chunk.lines) sink.message(2, line, lineFields);
}

function lineFields(sink: ProtoSink, line: LogLine): void {
  sink.int32(1, line.attempt);
  sink.uint(2, Number(line.sequence));
  if (line.time !== undefined) sink.message(3, line.time, timeFields);
  sink.string(4, line.stream);
  sink.string(5, line.level);
  sink.string(6, line.message);
  if (line.fields !== undefined) sink.message(7, line.fields, noFields);
}

function timeFields(sink: ProtoSink, time: Timestamp): void {
  sink.uint(1, Number(time.seconds));
  sink.int32(2, time.nanos);
}

/** An empty Struct (see emptyOrNone): a message of no fields. */
const noFields: ProtoFields<object> = () => {};
