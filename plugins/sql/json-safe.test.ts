import { describe, expect, it } from "vitest";
import { rowToJson, toJsonSafe } from "./json-safe.js";

describe("toJsonSafe", () => {
  it("makes driver values JSON-safe", () => {
    expect(toJsonSafe(12n)).toBe("12");
    expect(toJsonSafe(Number.NaN)).toBe("NaN");
    expect(toJsonSafe(Number.NEGATIVE_INFINITY)).toBe("-Infinity");
    expect(toJsonSafe(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe(
      "2024-01-02T03:04:05.000Z",
    );
    expect(toJsonSafe(new Date(Number.NaN))).toBeNull();
    expect(toJsonSafe(Buffer.from([0xde, 0xad, 0xbe, 0xef]))).toBe("3q2+7w==");
    expect(toJsonSafe([1, null, { a: 2n }])).toEqual([1, null, { a: "2" }]);
    expect(toJsonSafe(undefined)).toBeNull();
  });

  it("keeps a column named __proto__ as a column", () => {
    const row = rowToJson(
      Object.defineProperty({}, "__proto__", {
        value: "x",
        enumerable: true,
      }) as Record<string, unknown>,
    );
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(JSON.stringify(row)).toBe('{"__proto__":"x"}');
  });
});
