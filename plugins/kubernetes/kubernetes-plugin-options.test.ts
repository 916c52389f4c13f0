import { describe, expect, it } from "vitest";
import { resolvePluginOptions } from "./kubernetes-plugin-options.js";

describe("resolvePluginOptions", () => {
  it("applies the defaults", () => {
    expect(resolvePluginOptions({ env: {} })).toEqual({
      env: {},
      serviceAccountDir: "/var/run/secrets/kubernetes.io/serviceaccount",
      pollIntervalMs: 2_000,
      requestTimeoutMs: 30_000,
      deleteTimeoutMs: 60_000,
      logDrainTimeoutMs: 10_000,
      maxPollFailures: 5,
    });
  });

  it("names the option out of bounds", () => {
    expect(() => resolvePluginOptions({ pollIntervalMs: 0 })).toThrow(
      "kubernetes plugin option pollIntervalMs must be an integer >= 10, got 0",
    );
    expect(() => resolvePluginOptions({ maxPollFailures: 1.5 })).toThrow(
      /option maxPollFailures must be an integer >= 1/,
    );
  });
});
