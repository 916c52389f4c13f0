/** The flag of the Connect protocol's last message of a stream. */
const END_STREAM = 0x02;

/**
 * One message of a Connect streaming body: a flags byte, a 32-bit
 * big-endian length, then the message (here JSON). Written by hand from
 * the protocol's description, so curl can speak it without a library.
 */
export function envelope(message: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** A Connect streaming response body, split into its messages. */
export interface ConnectStream {
  messages: unknown[];
  /** The end-of-stream message: `{}` or `{ error: {...} }`. */
  end: Record<string, unknown> | undefined;
}

/** Splits a Connect streaming body (JSON, uncompressed) into messages. */
export function readEnvelopes(body: Buffer): ConnectStream {
  const stream: ConnectStream = { messages: [], end: undefined };
  let at = 0;
  while (at + 5 <= body.length) {
    const flags = body.readUInt8(at);
    const length = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + length).toString();
    at += 5 + length;
    if (flags & END_STREAM) {
      stream.end = JSON.parse(payload) as Record<string, unknown>;
    } else {
      stream.messages.push(JSON.parse(payload));
    }
  }
  if (at !== body.length) throw new Error("the stream ends mid-message");
  return stream;
}
