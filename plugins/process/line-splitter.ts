import { StringDecoder } from "node:string_decoder";

/** Lines longer than this are cut into pieces of this many characters. */
export const MAX_LINE_CHARS = 65_536;

/**
 * Turns a byte stream into UTF-8 lines without their line endings. A
 * multi-byte character split across chunks is kept whole; a line that
 * never ends is emitted in pieces so memory stays bounded.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder("utf8");
  readonly #onLine: (line: string) => void;
  #pending = "";

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  /** Feeds a chunk; complete lines are emitted at once. */
  push(chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : this.#decoder.write(chunk);
    this.#consume(this.#pending + text);
  }

  /** Emits the last line if the stream did not end with a newline. */
  end(): void {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = "";
    this.#consume(rest);
    if (this.#pending !== "") {
      this.#emit(this.#pending);
      this.#pending = "";
    }
  }

  #consume(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf("\n", start);
      if (newline === -1) break;
      this.#emit(text.slice(start, newline));
      start = newline + 1;
    }
    let rest = text.slice(start);
    while (rest.length > MAX_LINE_CHARS) {
      this.#onLine(rest.slice(0, MAX_LINE_CHARS));
      rest = rest.slice(MAX_LINE_CHARS);
    }
    this.#pending = rest;
  }

  #emit(line: string): void {
    this.#onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }
}
