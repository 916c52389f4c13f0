import { describe, expect, it } from "vitest";
import { OutputTail } from "./output-tail.js";

describe("OutputTail", () => {
  it("keeps the last whole lines within the byte limit", () => {
    const tail = new OutputTail(10);
    for (const line of ["aaaa", "bbbb", "cccc"]) tail.push(line);
    expect(tail.toString()).toBe("bbbb\ncccc");
  });

  it("keeps the end of one oversized line", () => {
    const tail = new OutputTail(4);
    tail.push("0123456789");
    expect(tail.toString()).toBe("6789");
  });

  it("never cuts a multi-byte character in half", () => {
    const tail = new OutputTail(3);
    tail.push("ééé");
    expect(tail.toString()).toBe("é");
  });
});
