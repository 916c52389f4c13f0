/** Default size of a stdout or stderr tail in the output: 4 KiB. */
export const DEFAULT_TAIL_BYTES = 4_096;

/**
 * Keeps the last lines of a stream, at most `maxBytes` of UTF-8 (counting
 * one newline between lines). Only whole lines are kept, except that a
 * single line longer than the limit keeps its last characters.
 */
export class OutputTail {
  readonly #maxBytes: number;
  readonly #lines: { text: string; bytes: number }[] = [];
  #bytes = 0;

  constructor(maxBytes = DEFAULT_TAIL_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Adds one line (without its newline). */
  push(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    this.#lines.push({ text: line, bytes });
    this.#bytes += bytes;
    while (this.#lines.length > 1 && this.#bytes - 1 > this.#maxBytes) {
      const dropped = this.#lines.shift();
      if (dropped !== undefined) this.#bytes -= dropped.bytes;
    }
  }

  /** The kept lines joined by newlines. */
  toString(): string {
    const text = this.#lines.map((line) => line.text).join("\n");
    if (Buffer.byteLength(text) <= this.#maxBytes) return text;
    // One oversized line: keep its end, cut on a character boundary.
    const bytes = Buffer.from(text);
    return bytes
      .subarray(bytes.length - this.#maxBytes)
      .toString("utf8")
      .replace(/^\uFFFD+/, "");
  }
}
