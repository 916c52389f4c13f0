import { describe, expect, it } from "vitest";
import { findCycles, upstreamOf } from "./dependency-graph.js";
import type { TaskDefinition } from "./workflow-definition.js";

function task(id: string, depends_on: string[] = []): TaskDefinition {
  return {
    id,
    type: "shell",
    depends_on,
    config: {},
    node_selector: {},
    priority: 0,
  };
}

describe("upstreamOf", () => {
  it("collects transitive dependencies, not the task itself", () => {
    const def = {
      tasks: [
        task("a"),
        task("b", ["a"]),
        task("c", ["b"]),
        task("d", ["a"]),
        task("e", ["c", "d"]),
      ],
    };
    expect(upstreamOf(def, "e")).toEqual(new Set(["a", "b", "c", "d"]));
    expect(upstreamOf(def, "c")).toEqual(new Set(["a", "b"]));
    expect(upstreamOf(def, "a")).toEqual(new Set());
    expect(upstreamOf(def, "missing")).toEqual(new Set());
  });
});

describe("findCycles", () => {
  it("lists each cycle once, in run order from its first task", () => {
    // a depends on c, b on a, c on b: c runs before a, a before b.
    const cycles = findCycles([
      task("a", ["c"]),
      task("b", ["a"]),
      task("c", ["b"]),
    ]);
    expect(cycles).toEqual([["a", "b", "c", "a"]]);
  });

  it("finds self-dependencies and separate cycles", () => {
    const cycles = findCycles([
      task("x", ["x"]),
      task("p", ["q"]),
      task("q", ["p"]),
      task("ok", ["p"]),
    ]);
    expect(cycles).toEqual([
      ["x", "x"],
      ["p", "q", "p"],
    ]);
  });

  it("ignores unknown ids and accepts a DAG", () => {
    expect(findCycles([task("a", ["zz"]), task("b", ["a"])])).toEqual([]);
  });

  it("walks a long chain without exhausting the stack", () => {
    const chain = Array.from({ length: 50_000 }, (_, i) =>
      task(`t${i}`, i === 0 ? ["t49999"] : [`t${i - 1}`]),
    );
    const cycles = findCycles(chain);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.length).toBe(50_001);
  });
});
