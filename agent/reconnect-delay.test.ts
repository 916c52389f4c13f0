import { describe, expect, it } from "vitest";
import {
  defaultReconnectPolicy,
  holdingMaxDelayMs,
  reconnectDelayMs,
} from "./reconnect-delay.js";

describe("reconnectDelayMs", () => {
  const policy = defaultReconnectPolicy;

  it("picks the whole ceiling with the largest random value", () => {
    const almostOne = () => 0.999_999;
    const delays = [0, 1, 2, 3, 4, 5, 6].map((failures) =>
      reconnectDelayMs(failures, policy, almostOne),
    );
    expect(delays).toEqual([249, 499, 999, 1999, 3999, 7999, 9999]);
  });

  it("caps the ceiling at maxDelayMs however many failures", () => {
    expect(reconnectDelayMs(1_000, policy, () => 0.5)).toBe(5000);
    expect(reconnectDelayMs(Number.MAX_SAFE_INTEGER, policy, () => 0.5)).toBe(
      5000,
    );
  });

  it("applies full jitter: zero with the smallest random value", () => {
    expect(reconnectDelayMs(4, policy, () => 0)).toBe(0);
    expect(reconnectDelayMs(2, policy, () => 0.25)).toBe(250);
  });

  it("keeps a misbehaving random source inside [0, ceiling]", () => {
    expect(reconnectDelayMs(0, policy, () => -3)).toBe(0);
    expect(reconnectDelayMs(0, policy, () => 7)).toBe(250);
    expect(reconnectDelayMs(-2, policy, () => 0.5)).toBe(125);
  });

  it("follows a custom policy", () => {
    const custom = { initialDelayMs: 10, maxDelayMs: 35 };
    const delays = [0, 1, 2, 3].map((n) =>
      reconnectDelayMs(n, custom, () => 0.999_999),
    );
    expect(delays).toEqual([9, 19, 34, 34]);
  });

  it("holds a lease-holding agent to four tries a heartbeat interval", () => {
    // The default lease TTL of 30 s heartbeats every 5 s.
    expect(holdingMaxDelayMs(policy, 5_000)).toBe(1_250);
    // Never below the first delay, nor above the policy's ceiling.
    expect(holdingMaxDelayMs(policy, 400)).toBe(250);
    expect(holdingMaxDelayMs(policy, 100_000)).toBe(10_000);
  });
});
