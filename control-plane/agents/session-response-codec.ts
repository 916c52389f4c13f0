/**
 * The agent session's responses to bytes, byte for byte as protobuf-es's
 * `toBinary` writes them, with assignments written by hand.
 *
 * A busy control plane sends an assignment per task. `toBinary` finds
 * each field through reflection and writes each sub-message through a
 * fork of its writer: about 12 µs for an assignment of 200 bytes, a
 * seventh of the control plane's CPU per no-op task. Written field by
 * field here, it takes a fraction of that. What this code does not know
 * how to write exactly (Structs, resources, unknown fields, int64 past
 * 2^53, an int32 field that is no int32) goes through `toBinary`, which
 * writes it or refuses it as before, so the bytes never differ; a test
 * compares the two on varied messages.
 */
import { toBinary } from "@bufbuild/protobuf";
import {
  type Assignment,
  type LeaseRef,
  type SessionResponse,
  SessionResponseSchema,
} from "../../gen/deerflow/v1/agent_pb.js";

/** Field numbers, as in proto/deerflow/v1/agent.proto. */
const RESPONSE_ASSIGNMENT = 2;
const RESPONSE_BATCH = 7;
const BATCH_MESSAGES = 1;

const LEN = 2;
const VARINT = 0;

/** The response as `toBinary(SessionResponseSchema, response)` writes it. */
export function encodeSessionResponse(response: SessionResponse): Uint8Array {
  const message = response.message;
  if (message.case === "assignment" && handWritable(message.value)) {
    return responseOfAssignment(message.value);
  }
  if (message.case !== "batch" || hasUnknown(message.value)) {
    return toBinary(SessionResponseSchema, response);
  }
  const parts = message.value.messages.map((m) =>
    m.message.case === "assignment" && handWritable(m.message.value)
      ? responseOfAssignment(m.message.value)
      : toBinary(SessionResponseSchema, m),
  );
  let batchSize = 0;
  for (const part of parts)
    batchSize += lenFieldSize(BATCH_MESSAGES, part.length);
  const out = new Writer(lenFieldSize(RESPONSE_BATCH, batchSize));
  out.tag(RESPONSE_BATCH, LEN).varint(batchSize);
  for (const part of parts) {
    out.tag(BATCH_MESSAGES, LEN).varint(part.length).raw(part);
  }
  return out.done();
}

/** Whether every field of the assignment is one this code writes exactly. */
function handWritable(a: Assignment): boolean {
  return (
    a.config === undefined &&
    a.context === undefined &&
    a.resources === undefined &&
    !hasUnknown(a) &&
    isInt32(a.attempt) &&
    isInt32(a.timeoutMs) &&
    isInt32(a.ackDeadlineMs) &&
    isInt32(a.leaseTtlMs) &&
    (a.lease === undefined ||
      (!hasUnknown(a.lease) && safeUint(a.lease.fencingToken)))
  );
}

/** toBinary refuses anything else (NaN, 1.5, 2^31); so does it here. */
function isInt32(value: number): boolean {
  return Number.isInteger(value) && value === (value | 0);
}

function hasUnknown(message: object): boolean {
  const unknown = (message as { $unknown?: unknown[] }).$unknown;
  return unknown !== undefined && unknown.length > 0;
}

/** An int64 written as the varint of a JavaScript number. */
function safeUint(value: bigint): boolean {
  return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER);
}

/** A SessionResponse holding one assignment. */
function responseOfAssignment(a: Assignment): Uint8Array {
  const size = sizeOf(assignmentFields, a);
  const out = new Writer(lenFieldSize(RESPONSE_ASSIGNMENT, size));
  out.tag(RESPONSE_ASSIGNMENT, LEN).varint(size);
  assignmentFields(out, a);
  return out.done();
}

/**
 * What a message is made of, field by field in number order, told to a
 * sink: a {@link Sizer} to measure it, a {@link Writer} to write it. One
 * list for both, so that the size and the bytes cannot disagree.
 */
type Fields<T> = (sink: Sink, message: T) => void;

function assignmentFields(sink: Sink, a: Assignment): void {
  if (a.lease !== undefined) sink.message(1, a.lease, leaseRefFields);
  sink.string(2, a.runId);
  sink.string(3, a.taskId);
  sink.int32(4, a.attempt);
  sink.string(5, a.type);
  sink.map(8, a.env);
  sink.int32(9, a.timeoutMs);
  sink.int32(10, a.ackDeadlineMs);
  sink.string(12, a.onAgentDisconnect);
  sink.int32(13, a.leaseTtlMs);
  sink.map(14, a.secrets);
  sink.bytes(15, a.configJson);
  sink.bytes(16, a.contextJson);
}

function leaseRefFields(sink: Sink, lease: LeaseRef): void {
  sink.string(1, lease.leaseId);
  // An int64 below 2^53 (see handWritable): its varint is a number's.
  sink.uint(2, Number(lease.fencingToken));
}

/** Fields as proto3 writes them: a zero value is not written at all. */
interface Sink {
  string(field: number, value: string): void;
  bytes(field: number, value: Uint8Array): void;
  int32(field: number, value: number): void;
  uint(field: number, value: number): void;
  /** A map<string, string>: an entry per own key, in the object's order. */
  map(field: number, map: StringMap): void;
  message<T>(field: number, value: T, fields: Fields<T>): void;
}

type StringMap = { [key: string]: string };

function sizeOf<T>(fields: Fields<T>, message: T): number {
  const sizer = new Sizer();
  fields(sizer, message);
  return sizer.size;
}

/** Adds up the bytes a message's fields take. */
class Sizer implements Sink {
  size = 0;

  string(field: number, value: string): void {
    if (value !== "") this.size += stringFieldSize(field, value);
  }

  bytes(field: number, value: Uint8Array): void {
    if (value.length > 0) this.size += lenFieldSize(field, value.length);
  }

  int32(field: number, value: number): void {
    if (value === 0) return;
    // A negative int32 goes as its 64-bit two's complement: ten bytes.
    this.size += tagSize(field) + (value < 0 ? 10 : varintSize(value));
  }

  uint(field: number, value: number): void {
    if (value !== 0) this.size += tagSize(field) + varintSize(value);
  }

  map(field: number, map: StringMap): void {
    for (const [key, value] of Object.entries(map)) {
      this.size += lenFieldSize(field, entrySize(key, value));
    }
  }

  message<T>(field: number, value: T, fields: Fields<T>): void {
    this.size += lenFieldSize(field, sizeOf(fields, value));
  }
}

/** A map entry: its key (field 1) and value (field 2), even when empty. */
function entrySize(key: string, value: string): number {
  return stringFieldSize(1, key) + stringFieldSize(2, value);
}

function stringFieldSize(field: number, value: string): number {
  return lenFieldSize(field, Buffer.byteLength(value, "utf8"));
}

/** A length-delimited field: tag, length, body. */
function lenFieldSize(field: number, length: number): number {
  return tagSize(field) + varintSize(length) + length;
}

/** A tag is the field number and wire type (3 bits) as a varint. */
function tagSize(field: number): number {
  return varintSize(field * 8);
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes into a buffer of the exact size, measured beforehand. */
class Writer implements Sink {
  private readonly buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  varint(value: number): this {
    while (value >= 0x80) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  string(field: number, value: string): void {
    if (value !== "") this.lenString(field, value);
  }

  bytes(field: number, value: Uint8Array): void {
    if (value.length > 0) this.tag(field, LEN).varint(value.length).raw(value);
  }

  int32(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, VARINT);
    if (value >= 0) {
      this.varint(value);
      return;
    }
    // Two's complement over 64 bits: the low 32 bits, then all ones.
    let low = value >>> 0;
    for (let i = 0; i < 4; i++) {
      this.buf[this.pos++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    // Bits 28-31 of the low word and the first three of the high (ones).
    this.buf[this.pos++] = (low & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = 0xff;
    this.buf[this.pos++] = 0x01;
  }

  uint(field: number, value: number): void {
    if (value !== 0) this.tag(field, VARINT).varint(value);
  }

  map(field: number, map: StringMap): void {
    for (const [key, value] of Object.entries(map)) {
      this.tag(field, LEN).varint(entrySize(key, value));
      this.lenString(1, key);
      this.lenString(2, value);
    }
  }

  message<T>(field: number, value: T, fields: Fields<T>): void {
    this.tag(field, LEN).varint(sizeOf(fields, value));
    fields(this, value);
  }

  /** A string field written even when empty (a map entry's key or value). */
  private lenString(field: number, value: string): void {
    this.tag(field, LEN).varint(Buffer.byteLength(value, "utf8"));
    this.pos += this.buf.write(value, this.pos, "utf8");
  }

  done(): Uint8Array {
    if (this.pos !== this.buf.length) {
      throw new Error(
        `session response: wrote ${this.pos} bytes of ${this.buf.length}`,
      );
    }
    // A plain view, as toBinary returns: what decodes it gets no Buffers.
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}
