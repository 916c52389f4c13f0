import { describe, expect, it } from "vitest";
import {
  CONFORMANCE_CHECKS,
  runConformance,
} from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { sqlConformance } from "./conformance.js";
import { sqlPlugin } from "./sql-plugin.js";

describe("sql plugin conformance", () => {
  it("passes every check on the real PostgreSQL", async () => {
    const plugin = sqlPlugin(pluginSdk) as unknown as Plugin;
    const results = await runConformance(plugin, sqlConformance);
    expect(results.map((r) => r.name)).toEqual([...CONFORMANCE_CHECKS]);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });
});
