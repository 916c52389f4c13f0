import { describe, expect, it } from "vitest";
import { DEFAULT_KILL_GRACE_MS, resolveKillGraceMs } from "./kill-grace.js";

describe("resolveKillGraceMs", () => {
  it("prefers the option, then the environment, then the default", () => {
    const env = { DEERFLOW_KILL_GRACE_MS: "250" };
    expect(resolveKillGraceMs(100, env)).toBe(100);
    expect(resolveKillGraceMs(undefined, env)).toBe(250);
    expect(resolveKillGraceMs(undefined, {})).toBe(DEFAULT_KILL_GRACE_MS);
  });

  it("names the variable when its value is bad", () => {
    expect(() =>
      resolveKillGraceMs(undefined, { DEERFLOW_KILL_GRACE_MS: "soon" }),
    ).toThrow(/DEERFLOW_KILL_GRACE_MS must be a whole number/);
    expect(() => resolveKillGraceMs(-1)).toThrow(/killGraceMs/);
  });
});
