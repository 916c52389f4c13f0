import { describe, expect, it } from "vitest";
import { runConformance } from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { kubernetesConformance } from "./conformance.js";
import { createKubernetesPlugin } from "./kubernetes-plugin.js";

describe("kubernetes plugin conformance (API server stand-in)", () => {
  it("stand-in: passes every check of the shared suite", async () => {
    const plugin = createKubernetesPlugin({ env: {}, pollIntervalMs: 50 })(
      pluginSdk,
    );
    const results = await runConformance(
      plugin as unknown as Plugin,
      kubernetesConformance,
    );
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results.length).toBeGreaterThan(5);
  });
});
