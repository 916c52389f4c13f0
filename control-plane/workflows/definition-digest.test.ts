import { describe, expect, it } from "vitest";
import { canonicalJson, definitionDigest } from "./definition-digest.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth and keeps list order", () => {
    expect(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
    ).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it("escapes keys and strings as JSON does", () => {
    expect(canonicalJson({ 'q"': "line\nnext", "": "é" })).toBe(
      '{"":"é","q\\"":"line\\nnext"}',
    );
  });
});

describe("definitionDigest", () => {
  it("is the same for the same definition in any key order", () => {
    const one = { name: "x", tasks: [{ id: "a", type: "shell" }] };
    const two = { tasks: [{ type: "shell", id: "a" }], name: "x" };
    expect(definitionDigest(one)).toBe(definitionDigest(two));
    expect(definitionDigest(one)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs when a value or the task order differs", () => {
    const base = { name: "x", tasks: [{ id: "a" }, { id: "b" }] };
    const digest = definitionDigest(base);
    expect(definitionDigest({ ...base, name: "y" })).not.toBe(digest);
    expect(
      definitionDigest({ name: "x", tasks: [{ id: "b" }, { id: "a" }] }),
    ).not.toBe(digest);
  });
});
