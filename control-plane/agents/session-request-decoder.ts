/**
 * The agent session's requests from bytes, value for value as
 * protobuf-es's `fromBinary` reads them, with the hot kinds read by hand.
 *
 * A busy agent sends batches of acknowledgements, results and credits,
 * a few per task. `fromBinary` finds each field through reflection and
 * builds each message through it: a quarter of the control plane's CPU
 * at steady state. Read field by field here, the same messages cost a
 * fraction of that, and come out the same: the same fields, defaults and
 * `$typeName`s. What this code does not read (a hello, a metric batch,
 * Structs with fields, unknown fields, int64 past 2^53, negative int32,
 * anything malformed) goes through `fromBinary` whole, which reads it or
 * refuses it with its own error, as before; a test compares the two.
 */
import { fromBinary } from "@bufbuild/protobuf";
import {
  decodeOr,
  notHandled,
  type ProtoReader,
  readEmptyStruct,
  readLeaseRef,
  readTimestamp,
} from "../../core/index.js";
import {
  type Acknowledge,
  type Credit,
  type Heartbeat,
  type LogChunk,
  type Reject,
  type Result,
  type SessionRequest,
  type SessionRequestBatch,
  SessionRequestSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import type { LogLine } from "../../gen/deerflow/v1/run_pb.js";

/** The request as `fromBinary(SessionRequestSchema, bytes)` reads it. */
export function decodeSessionRequest(bytes: Uint8Array): SessionRequest {
  return decodeOr(bytes, readTopRequest, () =>
    fromBinary(SessionRequestSchema, bytes),
  );
}

/**
 * The request read by hand; throws where decodeSessionRequest would turn
 * to fromBinary. For tests, to see that the hot kinds do not.
 */
export function decodeSessionRequestByHand(bytes: Uint8Array): SessionRequest {
  return decodeOr(bytes, readTopRequest, notHandled);
}

function readTopRequest(reader: ProtoReader): SessionRequest {
  return readRequest(reader, true);
}

function readInnerRequest(reader: ProtoReader): SessionRequest {
  return readRequest(reader, false);
}

/** Field tags of SessionRequest's oneof, as in agent.proto. */
const HEARTBEAT = 0x12;
const CREDIT = 0x1a;
const ACKNOWLEDGE = 0x22;
const REJECT = 0x2a;
const LOG_CHUNK = 0x32;
const RESULT = 0x42;
const BATCH = 0x4a;

/**
 * A SessionRequest; a batch only at the top (one inside a batch is an
 * error unpackBatch names, left to fromBinary to read).
 */
function readRequest(reader: ProtoReader, top: boolean): SessionRequest {
  let message: SessionRequest["message"] = { case: undefined };
  while (reader.more) {
    // A oneof set twice is merged or replaced by rules left to fromBinary.
    if (message.case !== undefined) notHandled();
    switch (reader.tag()) {
      case HEARTBEAT:
        message = { case: "heartbeat", value: reader.message(readHeartbeat) };
        break;
      case CREDIT:
        message = { case: "credit", value: reader.message(readCredit) };
        break;
      case ACKNOWLEDGE:
        message = { case: "acknowledge", value: reader.message(readAck) };
        break;
      case REJECT:
        message = { case: "reject", value: reader.message(readReject) };
        break;
      case LOG_CHUNK:
        message = { case: "logChunk", value: reader.message(readLogChunk) };
        break;
      case RESULT:
        message = { case: "result", value: reader.message(readResult) };
        break;
      case BATCH:
        if (!top) notHandled();
        message = { case: "batch", value: reader.message(readBatch) };
        break;
      default:
        notHandled();
    }
  }
  return { $typeName: "deerflow.v1.SessionRequest", message };
}

function readBatch(reader: ProtoReader): SessionRequestBatch {
  const messages: SessionRequest[] = [];
  while (reader.more) {
    if (reader.tag() !== 0x0a) notHandled();
    messages.push(reader.message(readInnerRequest));
  }
  return { $typeName: "deerflow.v1.SessionRequestBatch", messages };
}

function readHeartbeat(reader: ProtoReader): Heartbeat {
  const heartbeat: Heartbeat = {
    $typeName: "deerflow.v1.Heartbeat",
    leases: [],
  };
  while (reader.more) {
    if (reader.tag() !== 0x0a) notHandled();
    heartbeat.leases.push(reader.message(readLeaseRef));
  }
  return heartbeat;
}

function readCredit(reader: ProtoReader): Credit {
  const credit: Credit = {
    $typeName: "deerflow.v1.Credit",
    freeSlots: 0,
    assignmentsReceived: 0n,
    draining: false,
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x08:
        credit.freeSlots = reader.int32();
        break;
      case 0x10:
        credit.assignmentsReceived = reader.int64();
        break;
      case 0x18:
        credit.draining = reader.bool();
        break;
      default:
        notHandled();
    }
  }
  return credit;
}

/** The lease of a message whose field 1 is its lease, read once. */
function readLeaseField(
  reader: ProtoReader,
  into: { lease?: ReturnType<typeof readLeaseRef> },
): void {
  // A message field read twice is merged: left to fromBinary.
  if (into.lease !== undefined) notHandled();
  into.lease = reader.message(readLeaseRef);
}

function readAck(reader: ProtoReader): Acknowledge {
  const ack: Acknowledge = { $typeName: "deerflow.v1.Acknowledge" };
  while (reader.more) {
    if (reader.tag() !== 0x0a) notHandled();
    readLeaseField(reader, ack);
  }
  return ack;
}

function readReject(reader: ProtoReader): Reject {
  const reject: Reject = { $typeName: "deerflow.v1.Reject", reason: "" };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        readLeaseField(reader, reject);
        break;
      case 0x12:
        reject.reason = reader.string();
        break;
      default:
        notHandled();
    }
  }
  return reject;
}

function readLogChunk(reader: ProtoReader): LogChunk {
  const chunk: LogChunk = { $typeName: "deerflow.v1.LogChunk", lines: [] };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        readLeaseField(reader, chunk);
        break;
      case 0x12:
        chunk.lines.push(reader.message(readLogLine));
        break;
      default:
        notHandled();
    }
  }
  return chunk;
}

function readLogLine(reader: ProtoReader): LogLine {
  const line: LogLine = {
    $typeName: "deerflow.v1.LogLine",
    attempt: 0,
    sequence: 0n,
    stream: "",
    level: "",
    message: "",
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x08:
        line.attempt = reader.int32();
        break;
      case 0x10:
        line.sequence = reader.int64();
        break;
      case 0x1a:
        if (line.time !== undefined) notHandled();
        line.time = reader.message(readTimestamp);
        break;
      case 0x22:
        line.stream = reader.string();
        break;
      case 0x2a:
        line.level = reader.string();
        break;
      case 0x32:
        line.message = reader.string();
        break;
      case 0x3a:
        if (line.fields !== undefined) notHandled();
        line.fields = reader.message(readEmptyStruct);
        break;
      default:
        notHandled();
    }
  }
  return line;
}

function readResult(reader: ProtoReader): Result {
  const result: Result = {
    $typeName: "deerflow.v1.Result",
    outcome: 0,
    error: "",
    retryable: false,
    retryClass: "",
    retryAfterMs: 0,
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        readLeaseField(reader, result);
        break;
      case 0x10:
        result.outcome = reader.int32();
        break;
      case 0x18:
        result.exitCode = reader.int32();
        break;
      case 0x22:
        if (result.output !== undefined) notHandled();
        result.output = reader.message(readEmptyStruct);
        break;
      case 0x2a:
        result.error = reader.string();
        break;
      case 0x30:
        result.retryable = reader.bool();
        break;
      case 0x3a:
        result.retryClass = reader.string();
        break;
      case 0x42:
        if (result.startedAt !== undefined) notHandled();
        result.startedAt = reader.message(readTimestamp);
        break;
      case 0x4a:
        if (result.finishedAt !== undefined) notHandled();
        result.finishedAt = reader.message(readTimestamp);
        break;
      case 0x50:
        result.retryAfterMs = reader.int32();
        break;
      default:
        notHandled();
    }
  }
  return result;
}
