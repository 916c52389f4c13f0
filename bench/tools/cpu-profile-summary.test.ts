import { describe, expect, it } from "vitest";
import { areaOf, summarizeProfile } from "./cpu-profile-summary.js";

const frame = (functionName: string, url: string) => ({
  functionName,
  url,
  lineNumber: 0,
});

describe("cpu profile summary", () => {
  it("names areas by package, source folder or V8 bucket", () => {
    expect(areaOf("file:///x/node_modules/drizzle-orm/sql.js", "f")).toBe(
      "drizzle-orm",
    );
    expect(areaOf("file:///x/node_modules/@bufbuild/protobuf/a.js", "f")).toBe(
      "@bufbuild/protobuf",
    );
    expect(areaOf("file:///w/control-plane/leases/x.ts", "f")).toBe(
      "control-plane/leases",
    );
    expect(areaOf("node:net", "f")).toBe("node internals");
    expect(areaOf("", "(idle)")).toBe("(idle)");
  });

  it("adds self time to the leaf and inclusive time to every caller once", () => {
    // root → a → b, and b → a again (recursion counts once).
    const summary = summarizeProfile({
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), children: [2] },
        { id: 2, callFrame: frame("a", "file:///w/agent/a.ts"), children: [3] },
        { id: 3, callFrame: frame("b", "file:///w/agent/b.ts"), children: [4] },
        { id: 4, callFrame: frame("a", "file:///w/agent/a.ts") },
      ],
      samples: [3, 4, 2],
      timeDeltas: [1000, 2000, 3000],
    });
    expect(summary.totalMs).toBe(6);
    expect(Object.fromEntries(summary.byArea)).toEqual({ agent: 6 });
    const self = Object.fromEntries(summary.selfByFunction);
    expect(self["a a.ts:1"]).toBe(5);
    expect(self["b b.ts:1"]).toBe(1);
    const inclusive = Object.fromEntries(summary.inclusiveByFunction);
    expect(inclusive["a a.ts:1"]).toBe(6);
    expect(inclusive["b b.ts:1"]).toBe(3);
    expect(inclusive["(root) :1"]).toBe(6);
  });
});
