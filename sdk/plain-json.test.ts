import { describe, expect, it } from "vitest";
import { plainJson, plainJsonObject } from "./plain-json.js";
import { params } from "./ref.js";

describe("plainJson", () => {
  it("drops undefined keys and writes references as templates", () => {
    expect(
      plainJson({ a: 1, b: undefined, c: [params.x, { d: undefined }] }, "v"),
    ).toEqual({ a: 1, c: ["${params.x}", {}] });
  });

  it("keeps a key named __proto__ as a key", () => {
    const copied = plainJsonObject(JSON.parse('{"__proto__": {"x": 1}}'), "v");
    expect(Object.keys(copied)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
  });

  it("names the field of what JSON cannot hold", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const cases: [unknown, string][] = [
      [{ a: [1, undefined] }, "v.a[1]: is undefined (JSON has no undefined)"],
      [{ a: Number.POSITIVE_INFINITY }, "v.a: must be a finite number"],
      [{ a: 1n }, "v.a: must be JSON data, not a bigint"],
      [{ a: new Map() }, "v.a: must be plain JSON data, not a Map"],
      [{ a: Symbol("s") }, "v.a: must be JSON data, not a symbol"],
      [cycle, "v.self: refers to itself (a cycle)"],
    ];
    for (const [value, message] of cases) {
      expect(() => plainJson(value, "v")).toThrow(message);
    }
    expect(() => plainJsonObject([1], "v")).toThrow(
      "v: must be an object, not a list",
    );
  });
});
