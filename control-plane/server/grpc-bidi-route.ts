import type {
  Http2ServerRequest,
  Http2ServerResponse,
  OutgoingHttpHeaders,
} from "node:http2";
import { gzipSync } from "node:zlib";
import {
  type DescMessage,
  type DescMethodBiDiStreaming,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { GrpcEnvelopeReader } from "./grpc-envelope-reader.js";
import { peerAddress, UNKNOWN_PEER } from "./peer-address.js";

/** One bidi method's implementation, as connect-es would call it. */
export type BidiImplementation<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  peer: string,
) => AsyncIterable<MessageShape<O>>;

/** How a GrpcBidiRoute reads, answers and reports its method's calls. */
export interface GrpcBidiRouteOptions<
  I extends DescMessage,
  O extends DescMessage,
> {
  /** Largest request message, in bytes (connect-es's readMaxBytes). */
  readMaxBytes: number;
  /** The status a call ends with for what its implementation threw. */
  toError(error: unknown, procedure: string): ConnectError;
  /**
   * A response's bytes, exactly as `toBinary` writes them but faster for
   * the method's hot messages; `toBinary` when not given.
   */
  encode?(message: MessageShape<O>): Uint8Array;
  /**
   * A request from its bytes, exactly as `fromBinary` reads it (or
   * refuses it) but faster for the method's hot messages; `fromBinary`
   * when not given.
   */
  decode?(bytes: Uint8Array): MessageShape<I>;
}

/** Responses at least this large are compressed (connect-es's default). */
const COMPRESS_MIN_BYTES = 1024;
const FLAG_COMPRESSED = 0x01;

/**
 * Serves one bidi-streaming method over plain gRPC on HTTP/2 without
 * connect-es's pipeline. That pipeline keeps a dozen async generators
 * (each with its closures and promises) per open call; a session held
 * for hours by each of thousands of agents made them most of the
 * control plane's memory. Here a call holds one reader fed by the
 * request's events and one loop writing the implementation's responses.
 *
 * Only what this route can serve exactly as connect-es would is taken
 * (see `accepts`): gRPC with binary messages, uncompressed requests and
 * no deadline. Everything else goes to connect-es.
 */
export class GrpcBidiRoute<I extends DescMessage, O extends DescMessage> {
  readonly path: string;
  private readonly encode: (message: MessageShape<O>) => Uint8Array;
  private readonly decode: (bytes: Uint8Array) => MessageShape<I>;
  /** Open calls, each with the way to end it (see `close`). */
  private readonly calls = new Set<(reason: ConnectError) => void>();
  private closedWith: ConnectError | undefined;

  constructor(
    private readonly method: DescMethodBiDiStreaming<I, O>,
    private readonly implementation: BidiImplementation<I, O>,
    private readonly options: GrpcBidiRouteOptions<I, O>,
  ) {
    this.path = `/${method.parent.typeName}/${method.name}`;
    this.encode =
      options.encode ?? ((message) => toBinary(method.output, message));
    this.decode =
      options.decode ?? ((bytes) => fromBinary(method.input, bytes));
  }

  /** Whether this route serves the request; if not, connect-es does. */
  accepts(req: Http2ServerRequest): boolean {
    const h = req.headers;
    const type = h["content-type"];
    const encoding = h["grpc-encoding"];
    return (
      req.url === this.path &&
      req.method === "POST" &&
      req.httpVersionMajor === 2 &&
      (type === "application/grpc" || type === "application/grpc+proto") &&
      (encoding === undefined || encoding === "identity") &&
      h["grpc-timeout"] === undefined
    );
  }

  /**
   * Ends every open call with `reason` (Unavailable, when the control
   * plane stops: agents take it as "try again, maybe elsewhere"), and
   * every later one at once. connect-es does this with its shutdown
   * signal; a Set here, because each listener added to one signal walks
   * all the others, and thousands of sessions are open.
   */
  close(reason: ConnectError): void {
    this.closedWith = reason;
    for (const end of this.calls) end(reason);
    this.calls.clear();
  }

  /** Serves one call; never rejects (failures end the call's status). */
  async serve(req: Http2ServerRequest, res: Http2ServerResponse) {
    const reader = new GrpcEnvelopeReader(
      req,
      this.decode,
      this.options.readMaxBytes,
    );
    let stoppedWith = this.closedWith;
    const stop = (reason: ConnectError) => {
      stoppedWith = reason;
      reader.abort(reason);
    };
    if (stoppedWith) reader.abort(stoppedWith);
    else this.calls.add(stop);
    const gzip = acceptsGzip(req.headers["grpc-accept-encoding"]);
    const header: OutgoingHttpHeaders = {
      "content-type": "application/grpc+proto",
    };
    if (gzip) header["grpc-encoding"] = "gzip";
    const responses = this.implementation(
      { [Symbol.asyncIterator]: () => reader },
      peerAddress(req) ?? UNKNOWN_PEER,
    )[Symbol.asyncIterator]();
    let status: ConnectError | undefined;
    try {
      for (;;) {
        const next = await responses.next();
        if (next.done) break;
        await write(res, header, this.envelope(next.value, gzip));
      }
    } catch (error) {
      status = stoppedWith ?? this.options.toError(error, this.method.name);
      // The implementation may wait for the requests to end before it
      // returns (an agent session does): end them, or a response that
      // failed to encode would leave the call open, answering nothing.
      reader.abort(status);
    } finally {
      this.calls.delete(stop);
      await responses.return?.().catch(() => {});
      reader.return();
    }
    status ??= stoppedWith;
    end(res, header, status);
  }

  private envelope(message: MessageShape<O>, gzip: boolean): Buffer {
    let bytes = this.encode(message);
    let flags = 0;
    if (gzip && bytes.length >= COMPRESS_MIN_BYTES) {
      // Synchronous, unlike connect-es: a session's messages are a few
      // kilobytes at most, and our agents ask for none (only other
      // gRPC clients get here). Large ones would want zlib's async gzip.
      bytes = gzipSync(bytes);
      flags = FLAG_COMPRESSED;
    }
    const out = Buffer.allocUnsafe(5 + bytes.length);
    out[0] = flags;
    out.writeUInt32BE(bytes.length, 1);
    out.set(bytes, 5);
    return out;
  }
}

/**
 * Whether responses go gzipped: connect-es answers in the first encoding
 * of the caller's list that it has (gzip or br). A caller that puts br
 * first gets uncompressed responses here, which gRPC allows.
 */
function acceptsGzip(accepted: string | string[] | undefined): boolean {
  if (typeof accepted !== "string") return false;
  const known = accepted
    .split(",")
    .map((name) => name.trim())
    .find((name) => name === "gzip" || name === "br");
  return known === "gzip";
}

/** Ends the call with its status in the trailers, as gRPC spells it. */
function end(
  res: Http2ServerResponse,
  header: OutgoingHttpHeaders,
  status: ConnectError | undefined,
): void {
  if (res.stream.destroyed || res.writableEnded) return;
  if (!res.headersSent) res.writeHead(200, header);
  // As connect-es spells it: the error's metadata, grpc-status,
  // grpc-message and grpc-status-details-bin.
  const trailer: OutgoingHttpHeaders = {};
  setTrailerStatus(new Headers(), status).forEach((value, key) => {
    trailer[key] = value;
  });
  res.addTrailers(trailer);
  res.end();
}

/**
 * Writes a chunk (after the header, the first time), waiting while the
 * stream's buffer is full. A stream the peer closed fails the write as
 * Canceled: the call ends quietly, not as our error.
 */
function write(
  res: Http2ServerResponse,
  header: OutgoingHttpHeaders,
  chunk: Buffer,
): Promise<void> {
  if (res.stream.destroyed || res.writableEnded) {
    return Promise.reject(
      new ConnectError("the peer closed the stream", Code.Canceled),
    );
  }
  if (!res.headersSent) res.writeHead(200, header);
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      res.off("drain", done);
      res.off("close", closed);
      if (error === undefined) resolve();
      else reject(error);
    };
    const closed = () =>
      done(new ConnectError("the peer closed the stream", Code.Canceled));
    res.once("drain", done);
    res.once("close", closed);
  });
}
