/**
 * Protobuf's binary format written by hand, for the few session messages
 * that both ends send by the thousand (see the control plane's
 * session-response-codec.ts and the agent's session-request-encoder.ts).
 *
 * A message is described once, field by field, as calls on a
 * {@link ProtoSink}: a {@link ProtoSizer} runs them to measure the
 * message, a {@link ProtoWriter} runs them to write it into a buffer of
 * exactly that size. Each writes fields as protobuf-es's `toBinary` does
 * for proto3: in the order given (which must be field-number order),
 * and a field with implicit presence only when it is not its zero value.
 */

/** Wire types, as in the protobuf encoding's spec. */
export const VARINT = 0;
export const LEN = 2;

/** What a message is made of, field by field in number order. */
export type ProtoFields<T> = (sink: ProtoSink, message: T) => void;

/** Fields as proto3 writes them: a zero value is not written at all. */
export interface ProtoSink {
  string(field: number, value: string): void;
  bytes(field: number, value: Uint8Array): void;
  /** An int32 (or an enum); callers check that it is one. */
  int32(field: number, value: number): void;
  /** An int32 with explicit presence (`optional`): written even when 0. */
  presentInt32(field: number, value: number): void;
  /** A varint of a whole number from 0 to 2^53 (an int64 that small). */
  uint(field: number, value: number): void;
  bool(field: number, value: boolean): void;
  /** A map<string, string>: an entry per own key, in the object's order. */
  map(field: number, map: StringMap): void;
  /** A message field, written (even when empty) because it is set. */
  message<T>(field: number, value: T, fields: ProtoFields<T>): void;
}

export type StringMap = { [key: string]: string };

/** The size of `message` as `fields` writes it, in bytes. */
export function sizeOf<T>(fields: ProtoFields<T>, message: T): number {
  const sizer = new ProtoSizer();
  fields(sizer, message);
  return sizer.size;
}

/** Adds up the bytes a message's fields take. */
export class ProtoSizer implements ProtoSink {
  size = 0;

  string(field: number, value: string): void {
    if (value !== "") this.size += stringFieldSize(field, value);
  }

  bytes(field: number, value: Uint8Array): void {
    if (value.length > 0) this.size += lenFieldSize(field, value.length);
  }

  int32(field: number, value: number): void {
    if (value !== 0) this.presentInt32(field, value);
  }

  presentInt32(field: number, value: number): void {
    // A negative int32 goes as its 64-bit two's complement: ten bytes.
    this.size += tagSize(field) + (value < 0 ? 10 : varintSize(value));
  }

  uint(field: number, value: number): void {
    if (value !== 0) this.size += tagSize(field) + varintSize(value);
  }

  bool(field: number, value: boolean): void {
    if (value) this.size += tagSize(field) + 1;
  }

  map(field: number, map: StringMap): void {
    for (const [key, value] of Object.entries(map)) {
      this.size += lenFieldSize(field, entrySize(key, value));
    }
  }

  message<T>(field: number, value: T, fields: ProtoFields<T>): void {
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
export function lenFieldSize(field: number, length: number): number {
  return tagSize(field) + varintSize(length) + length;
}

/** A tag is the field number and wire type (3 bits) as a varint. */
export function tagSize(field: number): number {
  return varintSize(field * 8);
}

export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes into a buffer of the exact size, measured beforehand. */
export class ProtoWriter implements ProtoSink {
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
    if (value !== 0) this.presentInt32(field, value);
  }

  presentInt32(field: number, value: number): void {
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

  bool(field: number, value: boolean): void {
    if (value) this.tag(field, VARINT).varint(1);
  }

  map(field: number, map: StringMap): void {
    for (const [key, value] of Object.entries(map)) {
      this.tag(field, LEN).varint(entrySize(key, value));
      this.lenString(1, key);
      this.lenString(2, value);
    }
  }

  message<T>(field: number, value: T, fields: ProtoFields<T>): void {
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
        `proto writer: wrote ${this.pos} bytes of ${this.buf.length}`,
      );
    }
    // A plain view, as toBinary returns: what decodes it gets no Buffers.
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}

/**
 * A message as the one field `field` of its parent (a oneof's case):
 * tag, length, body, as `toBinary` writes a parent with only that field.
 */
export function encodeAsField<T>(
  field: number,
  fields: ProtoFields<T>,
  message: T,
): Uint8Array {
  const size = sizeOf(fields, message);
  const out = new ProtoWriter(lenFieldSize(field, size));
  out.tag(field, LEN).varint(size);
  fields(out, message);
  return out.done();
}

/** Whether a number is one an int32 field holds (toBinary refuses others). */
export function isInt32(value: number): boolean {
  return Number.isInteger(value) && value === (value | 0);
}

/** An int64 this code writes: from 0 to 2^53, as a number's varint. */
export function isSafeUint64(value: bigint): boolean {
  return value >= 0n && value <= MAX_SAFE;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a message holds fields its schema does not know. */
export function hasUnknown(message: object): boolean {
  const unknown = (message as { $unknown?: unknown[] }).$unknown;
  return unknown !== undefined && unknown.length > 0;
}
