import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  type AttemptFailure,
  decideRetry,
  MAX_RETRY_AFTER_MS,
} from "./retry-decision.js";

const NOW = new Date("2026-01-01T00:00:00.000Z");
const noJitter = () => 0;

const failed = (extra: Partial<AttemptFailure> = {}): AttemptFailure => ({
  retryClass: "error",
  retryable: true,
  ...extra,
});

/** A task spec with this retry policy. */
const spec = (retry: JsonObject = {}): JsonObject => ({ id: "t", retry });

describe("decideRetry", () => {
  it("retries after the first delay while attempts are left", () => {
    expect(decideRetry(spec(), 1, 3, failed(), NOW, noJitter)).toEqual({
      state: "RETRY",
      delayMs: 1000,
      notBefore: new Date(NOW.getTime() + 1000),
    });
  });

  it("waits longer before each later attempt", () => {
    const policy = spec({ initial_delay: 2, backoff: "linear" });
    const second = decideRetry(policy, 2, 5, failed(), NOW, noJitter);
    expect(second).toMatchObject({ state: "RETRY", delayMs: 4000 });
  });

  it("fails once every attempt was made", () => {
    expect(decideRetry(spec(), 3, 3, failed(), NOW, noJitter)).toEqual({
      state: "FAILED",
      reason: "all 3 attempts failed",
    });
    expect(decideRetry(spec(), 1, 1, failed(), NOW, noJitter)).toEqual({
      state: "FAILED",
      reason: "all 1 attempts failed",
    });
  });

  it("fails a non-retryable failure with attempts left", () => {
    const decision = decideRetry(
      spec(),
      1,
      5,
      failed({ retryable: false }),
      NOW,
      noJitter,
    );
    expect(decision).toEqual({
      state: "FAILED",
      reason: "the failure is not retryable",
    });
  });

  it.each(["error", "timeout", "lost"])(
    "retries %s by default",
    (retryClass) => {
      const decision = decideRetry(
        spec(),
        1,
        2,
        failed({ retryClass }),
        NOW,
        noJitter,
      );
      expect(decision.state).toBe("RETRY");
    },
  );

  it("retries a lost attempt at once, whatever the backoff", () => {
    const decision = decideRetry(
      spec({ max_attempts: 3, initial_delay: 30 }),
      1,
      3,
      failed({ retryClass: "lost" }),
      NOW,
      noJitter,
    );
    expect(decision).toEqual({ state: "RETRY", notBefore: NOW, delayMs: 0 });
    const error = decideRetry(
      spec({ max_attempts: 3, initial_delay: 30 }),
      1,
      3,
      failed({ retryClass: "error" }),
      NOW,
      noJitter,
    );
    expect(error).toMatchObject({ state: "RETRY", delayMs: 30_000 });
  });

  it.each(["5xx", "429"])("does not retry %s by default", (retryClass) => {
    expect(
      decideRetry(spec(), 1, 2, failed({ retryClass }), NOW, noJitter),
    ).toEqual({
      state: "FAILED",
      reason: `retry_on does not include ${retryClass}`,
    });
  });

  it("retries only the classes retry_on names", () => {
    const policy = spec({ retry_on: ["5xx", "429"] });
    const decide = (retryClass: string) =>
      decideRetry(policy, 1, 2, failed({ retryClass }), NOW, noJitter).state;
    expect(decide("5xx")).toBe("RETRY");
    expect(decide("429")).toBe("RETRY");
    expect(decide("error")).toBe("FAILED");
    expect(decide("timeout")).toBe("FAILED");
    expect(decide("lost")).toBe("FAILED");
  });

  it("retries an exit code that retry_on names, and no other", () => {
    const policy = spec({ retry_on: ["exit_code:3", "exit_code:-1"] });
    const decide = (exitCode: number | undefined) =>
      decideRetry(policy, 1, 2, failed({ exitCode }), NOW, noJitter).state;
    expect(decide(3)).toBe("RETRY");
    expect(decide(-1)).toBe("RETRY");
    expect(decide(4)).toBe("FAILED");
    expect(decide(undefined)).toBe("FAILED");
  });

  it("uses the injected random draw for jitter", () => {
    const policy = spec({ initial_delay: 8, jitter: 0.5 });
    const decision = decideRetry(policy, 1, 2, failed(), NOW, () => 0.25);
    expect(decision).toEqual({
      state: "RETRY",
      delayMs: 7000,
      notBefore: new Date(NOW.getTime() + 7000),
    });
  });

  it("waits at least as long as Retry-After asks", () => {
    const policy = spec({ retry_on: ["429"], initial_delay: 1, max_delay: 2 });
    const longer = decideRetry(
      policy,
      1,
      3,
      failed({ retryClass: "429", retryAfterMs: 45_000 }),
      NOW,
      noJitter,
    );
    // The floor wins over max_delay: the remote side said when.
    expect(longer).toMatchObject({ state: "RETRY", delayMs: 45_000 });
    const shorter = decideRetry(
      policy,
      1,
      3,
      failed({ retryClass: "429", retryAfterMs: 10 }),
      NOW,
      noJitter,
    );
    expect(shorter).toMatchObject({ state: "RETRY", delayMs: 1000 });
  });

  it("honours Retry-After up to an hour, not years", () => {
    const policy = spec({ retry_on: ["5xx"] });
    const decision = decideRetry(
      policy,
      1,
      3,
      failed({ retryClass: "5xx", retryAfterMs: 10 * 365 * 24 * 3600_000 }),
      NOW,
      noJitter,
    );
    expect(decision).toMatchObject({
      state: "RETRY",
      delayMs: MAX_RETRY_AFTER_MS,
    });
  });

  it("does not let Retry-After revive a failure with no attempts left", () => {
    const decision = decideRetry(
      spec({ retry_on: ["429"] }),
      2,
      2,
      failed({ retryClass: "429", retryAfterMs: 1000 }),
      NOW,
      noJitter,
    );
    expect(decision.state).toBe("FAILED");
  });
});
