/** Which of a container's output streams a frame belongs to. */
export type StreamName = "stdout" | "stderr";

const HEADER_BYTES = 8;

/**
 * Splits the multiplexed stream the Docker engine sends for a container
 * without a TTY (attach and logs) back into stdout and stderr. Each frame
 * is an 8-byte header (stream type, three zero bytes, payload length as
 * a big-endian uint32) and the payload. Frames may be cut anywhere across
 * chunks. Stream type 1 is stdout, 2 stderr, 3 the engine's own errors
 * (sent to stderr), 0 stdin (echoed to stdout).
 *
 * A header that cannot be one (non-zero padding, unknown type) means the
 * stream is not multiplexed after all (a TTY container): from there on
 * every byte goes to stdout as it is.
 */
export class StreamDemuxer {
  readonly #onData: (stream: StreamName, chunk: Buffer) => void;
  #pending: Buffer = Buffer.alloc(0);
  #raw = false;

  constructor(onData: (stream: StreamName, chunk: Buffer) => void) {
    this.#onData = onData;
  }

  /** Feeds a chunk; the payload of every complete frame goes out. */
  push(chunk: Buffer): void {
    if (this.#raw) {
      this.#onData("stdout", chunk);
      return;
    }
    let buffer =
      this.#pending.length === 0
        ? chunk
        : Buffer.concat([this.#pending, chunk]);
    while (buffer.length >= HEADER_BYTES) {
      const type = buffer[0] ?? 0;
      if (type > 3 || buffer[1] !== 0 || buffer[2] !== 0 || buffer[3] !== 0) {
        this.#raw = true;
        this.#pending = Buffer.alloc(0);
        this.#onData("stdout", buffer);
        return;
      }
      const length = buffer.readUInt32BE(4);
      if (buffer.length < HEADER_BYTES + length) break;
      const payload = buffer.subarray(HEADER_BYTES, HEADER_BYTES + length);
      if (payload.length > 0) {
        this.#onData(type === 2 || type === 3 ? "stderr" : "stdout", payload);
      }
      buffer = buffer.subarray(HEADER_BYTES + length);
    }
    this.#pending = Buffer.from(buffer);
  }

  /** Bytes of an incomplete frame still held (0 after a clean end). */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
