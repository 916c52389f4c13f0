import { describe, expect, it } from "vitest";
import { runConformance } from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { shellConformance } from "./conformance.js";
import { createShellPlugin } from "./index.js";

describe("conformance of shell", () => {
  it("passes every check", async () => {
    const plugin = createShellPlugin({ killGraceMs: 2_000 })(
      pluginSdk,
    ) as unknown as Plugin;
    const results = await runConformance(plugin, shellConformance);
    const failed = results.filter((r) => !r.passed);
    expect(failed.map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
  }, 120_000);
});
