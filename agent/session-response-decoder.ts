/**
 * The control plane's session responses from bytes, value for value as
 * protobuf-es's `fromBinary` reads them, with the hot kinds read by hand.
 *
 * A busy agent receives an assignment and a result acknowledgement per
 * task, in batches, and `fromBinary` of them was a large part of its CPU
 * (see session-request-encoder.ts for the other part). Read field by
 * field here (see core/proto-reader.ts), they come out the same: the same
 * fields, defaults and `$typeName`s. What this code does not read (a
 * welcome, Structs, resources, unknown or repeated fields, wide ints,
 * anything malformed) goes through `fromBinary` whole, which reads it or
 * refuses it with its own error, as before; a test compares the two.
 */
import { fromBinary } from "@bufbuild/protobuf";
import {
  decodeOr,
  LEN,
  notHandled,
  type ProtoReader,
  readLeaseRef,
  tagOf,
} from "../core/index.js";
import {
  type Assignment,
  type Cancel,
  type Drain,
  type HeartbeatAck,
  type ResultAck,
  type SessionResponse,
  type SessionResponseBatch,
  SessionResponseSchema,
} from "../gen/deerflow/v1/agent_pb.js";

/** The response as `fromBinary(SessionResponseSchema, bytes)` reads it. */
export function decodeSessionResponse(bytes: Uint8Array): SessionResponse {
  return decodeOr(bytes, readTopResponse, () =>
    fromBinary(SessionResponseSchema, bytes),
  );
}

/**
 * The response read by hand; throws where decodeSessionResponse would
 * turn to fromBinary. For tests, to see that the hot kinds do not.
 */
export function decodeSessionResponseByHand(
  bytes: Uint8Array,
): SessionResponse {
  return decodeOr(bytes, readTopResponse, notHandled);
}

function readTopResponse(reader: ProtoReader): SessionResponse {
  return readResponse(reader, true);
}

function readInnerResponse(reader: ProtoReader): SessionResponse {
  return readResponse(reader, false);
}

/** Field tags of SessionResponse's oneof, as in agent.proto. */
const ASSIGNMENT = 0x12;
const CANCEL = 0x1a;
const RESULT_ACK = 0x22;
const DRAIN = 0x2a;
const HEARTBEAT_ACK = 0x32;
const BATCH = 0x3a;

function readResponse(reader: ProtoReader, top: boolean): SessionResponse {
  let message: SessionResponse["message"] = { case: undefined };
  while (reader.more) {
    // A oneof set twice is merged or replaced by rules left to fromBinary.
    if (message.case !== undefined) notHandled();
    message = readCase(reader, reader.tag(), top);
  }
  return { $typeName: "deerflow.v1.SessionResponse", message };
}

/**
 * A response that is one field, given as its number and what follows its
 * tag (as fromBinary keeps an unknown field): read by hand, or throws.
 */
export function decodeSessionResponseField(
  no: number,
  data: Uint8Array,
): SessionResponse {
  return decodeOr(
    data,
    (reader) => {
      const message = readCase(reader, tagOf(no, LEN), true);
      if (reader.more) notHandled();
      return { $typeName: "deerflow.v1.SessionResponse", message };
    },
    notHandled,
  );
}

/** The oneof's field with tag `tag`, read from after the tag. */
function readCase(
  reader: ProtoReader,
  tag: number,
  top: boolean,
): SessionResponse["message"] {
  switch (tag) {
    case ASSIGNMENT:
      return { case: "assignment", value: reader.message(readAssignment) };
    case CANCEL:
      return { case: "cancel", value: reader.message(readCancel) };
    case RESULT_ACK:
      return { case: "resultAck", value: reader.message(readResultAck) };
    case DRAIN:
      return { case: "drain", value: reader.message(readDrain) };
    case HEARTBEAT_ACK:
      return { case: "heartbeatAck", value: reader.message(readHeartbeatAck) };
    case BATCH:
      if (!top) notHandled();
      return { case: "batch", value: reader.message(readBatch) };
    default:
      return notHandled();
  }
}

function readBatch(reader: ProtoReader): SessionResponseBatch {
  const messages: SessionResponse[] = [];
  while (reader.more) {
    if (reader.tag() !== 0x0a) notHandled();
    messages.push(reader.message(readInnerResponse));
  }
  return { $typeName: "deerflow.v1.SessionResponseBatch", messages };
}

/** Field 1 of a message, its lease, read once. */
function readLeaseField(
  reader: ProtoReader,
  into: { lease?: ReturnType<typeof readLeaseRef> },
): void {
  // A message field read twice is merged: left to fromBinary.
  if (into.lease !== undefined) notHandled();
  into.lease = reader.message(readLeaseRef);
}

function readAssignment(reader: ProtoReader): Assignment {
  const a: Assignment = {
    $typeName: "deerflow.v1.Assignment",
    runId: "",
    taskId: "",
    attempt: 0,
    type: "",
    env: {},
    timeoutMs: 0,
    ackDeadlineMs: 0,
    onAgentDisconnect: "",
    leaseTtlMs: 0,
    secrets: {},
    configJson: EMPTY,
    contextJson: EMPTY,
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        readLeaseField(reader, a);
        break;
      case 0x12:
        a.runId = reader.string();
        break;
      case 0x1a:
        a.taskId = reader.string();
        break;
      case 0x20:
        a.attempt = reader.int32();
        break;
      case 0x2a:
        a.type = reader.string();
        break;
      case 0x42:
        reader.message((r) => readMapEntry(r, a.env));
        break;
      case 0x48:
        a.timeoutMs = reader.int32();
        break;
      case 0x50:
        a.ackDeadlineMs = reader.int32();
        break;
      case 0x62:
        a.onAgentDisconnect = reader.string();
        break;
      case 0x68:
        a.leaseTtlMs = reader.int32();
        break;
      case 0x72:
        reader.message((r) => readMapEntry(r, a.secrets));
        break;
      case 0x7a:
        a.configJson = reader.bytes();
        break;
      case 0x82:
        a.contextJson = reader.bytes();
        break;
      default:
        notHandled();
    }
  }
  return a;
}

/**
 * The zero value of a bytes field. fromBinary gives each message its own
 * empty array; one shared here is as good, since none is ever written to
 * (a Uint8Array of length 0 holds nothing to write).
 */
const EMPTY = new Uint8Array(0);

/** One entry of a map<string, string>, key then value, into `map`. */
function readMapEntry(
  reader: ProtoReader,
  map: { [key: string]: string },
): void {
  let key = "";
  let value = "";
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        key = reader.string();
        break;
      case 0x12:
        value = reader.string();
        break;
      default:
        notHandled();
    }
  }
  // A key an object cannot hold as its own is left to fromBinary.
  if (key === "__proto__") notHandled();
  map[key] = value;
}

function readCancel(reader: ProtoReader): Cancel {
  const cancel: Cancel = { $typeName: "deerflow.v1.Cancel", reason: "" };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        readLeaseField(reader, cancel);
        break;
      case 0x12:
        cancel.reason = reader.string();
        break;
      default:
        notHandled();
    }
  }
  return cancel;
}

function readResultAck(reader: ProtoReader): ResultAck {
  const ack: ResultAck = {
    $typeName: "deerflow.v1.ResultAck",
    accepted: false,
    reason: "",
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x0a:
        readLeaseField(reader, ack);
        break;
      case 0x10:
        ack.accepted = reader.bool();
        break;
      case 0x1a:
        ack.reason = reader.string();
        break;
      default:
        notHandled();
    }
  }
  return ack;
}

function readHeartbeatAck(reader: ProtoReader): HeartbeatAck {
  const ack: HeartbeatAck = {
    $typeName: "deerflow.v1.HeartbeatAck",
    staleLeases: [],
  };
  while (reader.more) {
    if (reader.tag() !== 0x0a) notHandled();
    ack.staleLeases.push(reader.message(readLeaseRef));
  }
  return ack;
}

function readDrain(reader: ProtoReader): Drain {
  const drain: Drain = { $typeName: "deerflow.v1.Drain", gracePeriodMs: 0 };
  while (reader.more) {
    if (reader.tag() !== 0x08) notHandled();
    drain.gracePeriodMs = reader.int32();
  }
  return drain;
}
