import { describe, expect, it } from "vitest";
import { perUnit, tallyHeap } from "./heap-snapshot-diff.js";

/** A snapshot of nodes given as [type, name, self size]. */
function snapshot(nodes: [string, string, number][]) {
  const types = ["object", "closure", "string", "code"];
  const strings: string[] = [];
  const flat: number[] = [];
  for (const [type, name, size] of nodes) {
    strings.push(name);
    flat.push(types.indexOf(type), strings.length - 1, size);
  }
  return {
    snapshot: {
      meta: {
        node_fields: ["type", "name", "self_size"],
        node_types: [types] as [string[]],
      },
    },
    nodes: flat,
    strings,
  };
}

describe("heap-snapshot-diff", () => {
  it("tallies by type and name, strings and code by type alone", () => {
    const tally = tallyHeap(
      snapshot([
        ["object", "Promise", 32],
        ["object", "Promise", 32],
        ["closure", "step", 40],
        ["string", "abc", 16],
        ["string", "def", 24],
        ["code", "x", 100],
      ]),
    );
    expect(tally.get("object Promise")).toEqual({ count: 2, bytes: 64 });
    expect(tally.get("closure step")).toEqual({ count: 1, bytes: 40 });
    expect(tally.get("string")).toEqual({ count: 2, bytes: 40 });
    expect(tally.get("code")).toEqual({ count: 1, bytes: 100 });
  });

  it("gives the growth per unit, largest first", () => {
    const before = tallyHeap(snapshot([["object", "Promise", 32]]));
    const after = tallyHeap(
      snapshot([
        ["object", "Promise", 32],
        ["object", "Promise", 32],
        ["object", "Promise", 32],
        ["closure", "step", 400],
      ]),
    );
    expect(perUnit(before, after, 2)).toEqual([
      ["closure step", { count: 0.5, bytes: 200 }],
      ["object Promise", { count: 1, bytes: 32 }],
    ]);
  });
});
