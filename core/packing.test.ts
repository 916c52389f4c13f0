import { describe, expect, it } from "vitest";
import { approximateSize, type Packing, takePacked } from "./packing.js";

/** Items are strings; a pack joins them; an item weighs its length. */
const packing: Packing<string> = {
  pack: (items) => `[${items.join(",")}]`,
  weigh: (item) => item.length,
  maxBytes: 10,
  maxItems: 3,
};

describe("takePacked", () => {
  it("packs from the front within the byte and item limits", () => {
    const items = ["aaaa", "bbbb", "cc", "d", "e"];
    expect(takePacked(items, packing)).toBe("[aaaa,bbbb,cc]");
    expect(items).toEqual(["d", "e"]);
    const many = ["1", "2", "3", "4"];
    expect(takePacked(many, packing)).toBe("[1,2,3]");
    expect(many).toEqual(["4"]);
  });

  it("sends an item heavier than the limit alone, unpacked", () => {
    const items = ["x".repeat(50), "y"];
    expect(takePacked(items, packing)).toBe("x".repeat(50));
    const after = ["y", "z".repeat(50)];
    expect(takePacked(after, packing)).toBe("y");
    expect(after).toEqual(["z".repeat(50)]);
  });

  it("takes one at a time without packing", () => {
    const items = ["a", "b"];
    expect(takePacked(items, undefined)).toBe("a");
    expect(items).toEqual(["b"]);
  });
});

describe("approximateSize", () => {
  it("grows with the text inside, and stops counting past the limit", () => {
    const small = approximateSize({ a: "x", b: [1, 2n, true] }, 1_000);
    const big = approximateSize({ a: "x".repeat(10_000), b: [1] }, 1_000_000);
    expect(small).toBeLessThan(50);
    expect(big).toBeGreaterThan(10_000);
    const huge = Array.from({ length: 100_000 }, () => "y".repeat(100));
    const capped = approximateSize(huge, 1_000);
    expect(capped).toBeGreaterThan(1_000);
    expect(capped).toBeLessThan(2_000);
  });
});
