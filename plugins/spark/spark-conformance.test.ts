import { describe, expect, it } from "vitest";
import { runConformance } from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { sparkConformance } from "./conformance.js";
import { createSparkPlugin } from "./spark-plugin.js";

describe("spark plugin conformance (stand-in spark-submit)", () => {
  it("passes every check of the shared suite with the stand-in", async () => {
    const plugin = createSparkPlugin({ killGraceMs: 2_000 })(pluginSdk);
    const results = await runConformance(
      plugin as unknown as Plugin,
      sparkConformance,
    );
    const failed = results.filter((r) => !r.passed);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThan(5);
  });
});
