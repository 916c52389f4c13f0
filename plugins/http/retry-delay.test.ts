import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./retry-delay.js";

describe("retryDelayMs", () => {
  it("doubles from the base up to the cap", () => {
    const delays = [0, 1, 2, 5, 9].map((n) => retryDelayMs(n, undefined));
    expect(delays).toEqual([1_000, 2_000, 4_000, 30_000, 30_000]);
  });

  it("waits what Retry-After asks, unless that is too long", () => {
    expect(retryDelayMs(3, 7_000)).toBe(7_000);
    expect(retryDelayMs(0, 0)).toBe(0);
    expect(retryDelayMs(0, 600_000)).toBeUndefined();
    expect(retryDelayMs(0, 600_000, { maxRetryAfterMs: 600_000 })).toBe(
      600_000,
    );
  });
});
