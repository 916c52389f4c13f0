import { describe, expect, it } from "vitest";
import { percentiles, quantile, summarize } from "./stats.js";

describe("stats", () => {
  it("summarize gives the median, extremes and quartiles", () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({
      n: 5,
      median: 3,
      min: 1,
      max: 5,
      p25: 2,
      p75: 4,
      mean: 3,
    });
  });

  it("interpolates between neighbours and ignores NaN", () => {
    expect(quantile([1, 2], 0.5)).toBe(1.5);
    expect(summarize([Number.NaN, 10, 20]).median).toBe(15);
  });

  it("is NaN for no samples", () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(s.median).toBeNaN();
  });

  it("percentiles of 1..100", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const p = percentiles(values);
    expect(p.p50).toBeCloseTo(50.5);
    expect(p.p95).toBeCloseTo(95.05);
    expect(p.p99).toBeCloseTo(99.01);
    expect(p.count).toBe(100);
  });
});
