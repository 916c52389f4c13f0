import { describe, expect, it } from "vitest";
import { type RetryDelayPolicy, retryDelayMs } from "./retry-delay.js";

/** Delays before attempts 2..(n+1), with jitter pinned to none. */
function delays(policy: RetryDelayPolicy, count: number): number[] {
  return Array.from({ length: count }, (_, i) =>
    retryDelayMs(policy, i + 2, () => 0),
  );
}

describe("retryDelayMs", () => {
  it("defaults to exponential from one second, doubling", () => {
    expect(delays({}, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it("keeps a fixed delay", () => {
    expect(delays({ backoff: "fixed", initial_delay: 3 }, 4)).toEqual([
      3000, 3000, 3000, 3000,
    ]);
  });

  it("grows a linear delay by the initial delay each attempt", () => {
    expect(delays({ backoff: "linear", initial_delay: 2 }, 4)).toEqual([
      2000, 4000, 6000, 8000,
    ]);
  });

  it("grows an exponential delay by its multiplier", () => {
    const policy: RetryDelayPolicy = {
      backoff: "exponential",
      initial_delay: 0.5,
      multiplier: 3,
    };
    expect(delays(policy, 4)).toEqual([500, 1500, 4500, 13500]);
  });

  it("caps every backoff at max_delay", () => {
    expect(delays({ initial_delay: 10, max_delay: 35 }, 4)).toEqual([
      10000, 20000, 35000, 35000,
    ]);
    expect(
      delays({ backoff: "linear", initial_delay: 10, max_delay: 25 }, 3),
    ).toEqual([10000, 20000, 25000]);
    expect(
      delays({ backoff: "fixed", initial_delay: 10, max_delay: 4 }, 1),
    ).toEqual([4000]);
  });

  it("caps at 300 seconds by default, however many attempts", () => {
    expect(retryDelayMs({}, 50, () => 0)).toBe(300_000);
    expect(retryDelayMs({}, 5000, () => 0)).toBe(300_000);
  });

  it("treats the first attempt like the first retry", () => {
    expect(retryDelayMs({ initial_delay: 2 }, 1, () => 0)).toBe(2000);
  });

  it("allows no delay at all", () => {
    expect(delays({ initial_delay: 0 }, 3)).toEqual([0, 0, 0]);
  });

  it("takes off at most the jitter fraction, as the random draw says", () => {
    const policy: RetryDelayPolicy = { initial_delay: 10, jitter: 0.5 };
    expect(retryDelayMs(policy, 2, () => 0)).toBe(10000);
    expect(retryDelayMs(policy, 2, () => 0.5)).toBe(7500);
    expect(retryDelayMs(policy, 2, () => 0.999)).toBe(5005);
  });

  it("applies jitter after the cap", () => {
    const policy: RetryDelayPolicy = {
      initial_delay: 100,
      max_delay: 40,
      jitter: 0.25,
    };
    expect(retryDelayMs(policy, 4, () => 1)).toBe(30000);
  });

  it("clamps jitter to 0..1 and reads true as 1 and false as 0", () => {
    const half = () => 0.5;
    expect(retryDelayMs({ initial_delay: 4, jitter: 7 }, 2, half)).toBe(2000);
    expect(retryDelayMs({ initial_delay: 4, jitter: -1 }, 2, half)).toBe(4000);
    expect(retryDelayMs({ initial_delay: 4, jitter: true }, 2, half)).toBe(
      2000,
    );
    expect(retryDelayMs({ initial_delay: 4, jitter: false }, 2, half)).toBe(
      4000,
    );
  });
});
