import { describe, expect, it } from "vitest";
import { LineSplitter, MAX_LINE_CHARS } from "./line-splitter.js";

function split(chunks: (Buffer | string)[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  it("splits across chunks and strips CR", () => {
    expect(split(["a\r\nb", "c\n", "d"])).toEqual(["a", "bc", "d"]);
  });

  it("keeps a multi-byte character split across chunks", () => {
    const bytes = Buffer.from("é\n");
    expect(split([bytes.subarray(0, 1), bytes.subarray(1)])).toEqual(["é"]);
  });

  it("emits nothing extra for a trailing newline", () => {
    expect(split(["x\n"])).toEqual(["x"]);
  });

  it("cuts a line that never ends", () => {
    const lines = split(["y".repeat(MAX_LINE_CHARS * 2 + 5)]);
    expect(lines.map((l) => l.length)).toEqual([
      MAX_LINE_CHARS,
      MAX_LINE_CHARS,
      5,
    ]);
  });
});
