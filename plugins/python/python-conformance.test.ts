import { describe, expect, it } from "vitest";
import { runConformance } from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { pythonConformance } from "./conformance.js";
import { createPythonPlugin } from "./python-plugin.js";

describe("python plugin conformance", () => {
  it("passes every check of the shared suite", async () => {
    const plugin = createPythonPlugin({ killGraceMs: 2_000 })(pluginSdk);
    const results = await runConformance(
      plugin as unknown as Plugin,
      pythonConformance,
    );
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results.map((r) => r.name)).toContain("timeout reaches the work");
  });
});
