import type { Http2ServerRequest } from "node:http2";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { COMPRESSED_WITHOUT_ENCODING } from "../api/connect-errors.js";

/** Length-prefixed message header: a flags byte and a 32-bit length. */
const HEADER_BYTES = 5;
const FLAG_COMPRESSED = 0x01;

/** Messages read ahead of the consumer before the stream is paused. */
const READ_AHEAD = 64;

/**
 * The request messages of one gRPC stream as an async iterator, fed by
 * the request's "data" events: no chain of async generators between the
 * socket and the consumer, so a waiting stream holds one pending
 * promise. Messages come out in order; the request is paused while
 * more than READ_AHEAD wait unread. A stream that closes before its end
 * rejects the next read with Canceled, like connect-node's.
 */
export class GrpcEnvelopeReader<Desc extends DescMessage>
  implements AsyncIterator<MessageShape<Desc>>
{
  private readonly ready: MessageShape<Desc>[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: unknown;
  private waiter:
    | {
        resolve: (result: IteratorResult<MessageShape<Desc>>) => void;
        reject: (error: unknown) => void;
      }
    | undefined;

  constructor(
    private readonly request: Http2ServerRequest,
    /** A message from its bytes, as `fromBinary` reads it or refuses it. */
    private readonly parse: (bytes: Uint8Array) => MessageShape<Desc>,
    private readonly readMaxBytes: number,
  ) {
    request.on("data", (chunk: Buffer) => this.receive(chunk));
    request.once("end", () => this.finish());
    request.once("close", () => {
      if (!this.ended) {
        this.fail(
          new ConnectError(
            "the peer closed the stream before its end",
            Code.Canceled,
          ),
        );
      }
    });
  }

  next(): Promise<IteratorResult<MessageShape<Desc>>> {
    const value = this.ready.shift();
    if (value !== undefined) {
      if (this.ready.length < READ_AHEAD) this.request.resume();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Fails the reading with `reason`, as if the stream had broken. */
  abort(reason: unknown): void {
    this.fail(reason);
  }

  /** The consumer stops reading: what else arrives is dropped. */
  return(): Promise<IteratorResult<MessageShape<Desc>>> {
    this.ended = true;
    this.ready.length = 0;
    this.chunks = [];
    this.request.resume();
    return Promise.resolve({ value: undefined, done: true });
  }

  private receive(chunk: Buffer): void {
    if (this.ended || this.failure !== undefined) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.split();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.ready.length > READ_AHEAD) this.request.pause();
  }

  /** Takes every whole message out of the bytes received so far. */
  private split(): void {
    while (this.buffered >= HEADER_BYTES) {
      const head = this.peek(HEADER_BYTES);
      const length = head.readUInt32BE(1);
      if (length > this.readMaxBytes) {
        throw new ConnectError(
          `message size ${length} is larger than configured readMaxBytes ${this.readMaxBytes}`,
          Code.ResourceExhausted,
        );
      }
      if (((head[0] ?? 0) & FLAG_COMPRESSED) !== 0) {
        throw new ConnectError(COMPRESSED_WITHOUT_ENCODING, Code.Internal);
      }
      if (this.buffered < HEADER_BYTES + length) return;
      const bytes = this.peek(HEADER_BYTES + length);
      this.drop(HEADER_BYTES + length);
      this.deliver(this.decode(bytes.subarray(HEADER_BYTES)));
    }
  }

  private decode(bytes: Uint8Array): MessageShape<Desc> {
    try {
      return this.parse(bytes);
    } catch (error) {
      // Spelt as connect-es spells it, so toConnectError maps it alike.
      throw new ConnectError(
        `parse binary: ${error instanceof Error ? error.message : error}`,
        Code.Internal,
      );
    }
  }

  /** The first `n` buffered bytes as one buffer, joining chunks once. */
  private peek(n: number): Buffer {
    let first = this.chunks[0];
    if (first === undefined || first.length < n) {
      first = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [first];
    }
    return first.subarray(0, n);
  }

  private drop(n: number): void {
    const first = this.chunks[0];
    if (first === undefined) return;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
  }

  private deliver(message: MessageShape<Desc>): void {
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.ready.push(message);
      return;
    }
    this.waiter = undefined;
    waiter.resolve({ value: message, done: false });
  }

  private finish(): void {
    if (this.ended || this.failure !== undefined) return;
    if (this.buffered > 0) {
      this.fail(
        new ConnectError(
          "the stream ended inside a message",
          Code.InvalidArgument,
        ),
      );
      return;
    }
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.chunks = [];
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}
