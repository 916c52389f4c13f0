import { describe, expect, it } from "vitest";
import { runConformance } from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { httpConformance } from "./conformance.js";
import { httpPlugin } from "./http-plugin.js";

describe("http plugin conformance", () => {
  it("passes every check of the shared suite against loopback servers", async () => {
    const plugin = httpPlugin(pluginSdk) as unknown as Plugin;
    const results = await runConformance(plugin, httpConformance);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results.map((r) => r.name)).toContain("cancel reaches the work");
  });
});
