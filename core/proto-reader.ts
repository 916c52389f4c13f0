/**
 * Protobuf's binary format read by hand, for the few session messages
 * that both ends receive by the thousand (see the control plane's
 * session-request-decoder.ts and the agent's session-response-decoder.ts).
 *
 * The reader knows only the plain cases: canonical field layouts, varints
 * that JavaScript numbers hold, valid UTF-8, lengths within the message.
 * Anything else (an unknown field, a wire type the schema does not give
 * the field, an int64 past 2^53, a negative int32, truncated bytes)
 * makes it give up with {@link notHandled}, and its caller decodes the
 * whole message again with protobuf-es's `fromBinary`, which reads it or
 * refuses it with its own error, exactly as without this code.
 */

/** A tag as a number: the field number and wire type of a field. */
export function tagOf(field: number, wireType: number): number {
  return field * 8 + wireType;
}

const GIVE_UP = new Error("not decoded by hand");

/** Leaves the message to `fromBinary`. */
export function notHandled(): never {
  throw GIVE_UP;
}

/**
 * `read` over the bytes, or `fallback()` when the hand decoder gives up
 * (or fails in any other way: fromBinary then says what is wrong).
 */
export function decodeOr<T>(
  bytes: Uint8Array,
  read: (reader: ProtoReader) => T,
  fallback: () => T,
): T {
  let value: T;
  try {
    value = read(new ProtoReader(bytes));
  } catch {
    return fallback();
  }
  return value;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INT32_MAX = 0x7fffffff;
/** Strings this short and ASCII are built without a TextDecoder call. */
const SHORT_STRING = 64;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads fields from a message's bytes, within the current message. */
export class ProtoReader {
  pos = 0;
  /** Where the message being read ends. */
  private end: number;

  constructor(private readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  /** Whether the current message has another field. */
  get more(): boolean {
    return this.pos < this.end;
  }

  /** The next field's tag (see {@link tagOf}). */
  tag(): number {
    const tag = this.varint();
    if (tag < 8 || tag > INT32_MAX) notHandled();
    return tag;
  }

  /** A varint of at most 2^53 - 1, as a number. */
  varint(): number {
    const { buf, end } = this;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= end) notHandled();
      const byte = buf[this.pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > MAX_SAFE) notHandled();
        return value;
      }
      scale *= 0x80;
    }
    return notHandled();
  }

  /** An int32 field from 0 up; negative ones go to fromBinary. */
  int32(): number {
    const value = this.varint();
    if (value > INT32_MAX) notHandled();
    return value;
  }

  /** An int64 field from 0 to 2^53 - 1. */
  int64(): bigint {
    return BigInt(this.varint());
  }

  bool(): boolean {
    if (this.pos >= this.end) notHandled();
    const byte = this.buf[this.pos++] as number;
    if (byte >= 0x80) notHandled();
    return byte !== 0;
  }

  bytes(): Uint8Array {
    const length = this.length();
    // A view, as fromBinary gives.
    return this.buf.subarray(this.pos - length, this.pos);
  }

  /** A string field; invalid UTF-8 throws, and fromBinary refuses it. */
  string(): string {
    const length = this.length();
    const start = this.pos - length;
    const buf = this.buf;
    if (length <= SHORT_STRING) {
      let ascii = true;
      for (let i = start; i < this.pos; i++) {
        if ((buf[i] as number) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        return String.fromCharCode.apply(
          null,
          buf.subarray(start, this.pos) as unknown as number[],
        );
      }
    }
    return utf8.decode(buf.subarray(start, this.pos));
  }

  /** A sub-message, read by `read` within its length. */
  message<T>(read: (reader: ProtoReader) => T): T {
    const length = this.varint();
    const outer = this.end;
    if (length > outer - this.pos) notHandled();
    this.end = this.pos + length;
    const value = read(this);
    if (this.pos !== this.end) notHandled();
    this.end = outer;
    return value;
  }

  /** Reads a length and steps over that many bytes, within the message. */
  private length(): number {
    const length = this.varint();
    if (length > this.end - this.pos) notHandled();
    this.pos += length;
    return length;
  }
}

/**
 * A google.protobuf.Struct field, as protobuf-es gives it (a JSON object),
 * when it is empty; a Struct with fields goes to fromBinary.
 */
export function readEmptyStruct(reader: ProtoReader): Record<string, never> {
  if (reader.more) notHandled();
  return {};
}

/** A google.protobuf.Timestamp from 1970 on, as protobuf-es gives it. */
export function readTimestamp(reader: ProtoReader): {
  $typeName: "google.protobuf.Timestamp";
  seconds: bigint;
  nanos: number;
} {
  const time = {
    $typeName: "google.protobuf.Timestamp" as const,
    seconds: 0n,
    nanos: 0,
  };
  while (reader.more) {
    switch (reader.tag()) {
      case 0x08:
        time.seconds = reader.int64();
        break;
      case 0x10:
        time.nanos = reader.int32();
        break;
      default:
        notHandled();
    }
  }
  return time;
}
