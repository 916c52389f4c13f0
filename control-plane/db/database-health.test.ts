import { describe, expect, it } from "vitest";
import type { Clock } from "../../core/index.js";
import { captureLogger } from "../../test/support/capture-logger.js";
import { DatabaseHealth, silentAfterMs } from "./database-health.js";

const SILENT_AFTER_MS = 10_000;

/** A clock the test moves by hand; nothing here sleeps. */
function handClock() {
  let now = Date.UTC(2026, 0, 1);
  const clock: Clock = {
    now: () => now,
    sleep: () => Promise.resolve(),
  };
  return { clock, advance: (ms: number) => (now += ms) };
}

function healthOnHandClock() {
  const time = handClock();
  const log = captureLogger("debug");
  const health = new DatabaseHealth({
    clock: time.clock,
    logger: log.logger,
    silentAfterMs: SILENT_AFTER_MS,
  });
  const transitions = () =>
    log
      .lines()
      .filter((line) => String(line.msg).startsWith("database "))
      .map(({ level, msg, reason, failures }) => ({
        level,
        msg,
        ...(reason === undefined ? {} : { reason }),
        ...(failures === undefined ? {} : { failures }),
      }));
  return { health, time, transitions };
}

const LOST = { level: 40, msg: "database lost: health is NOT_SERVING" };
const BACK = { level: 30, msg: "database answers again: health is SERVING" };

describe("DatabaseHealth", () => {
  it("is up from the start, while round trips answer", () => {
    const { health, time, transitions } = healthOnHandClock();
    expect(health.isUp()).toBe(true);
    time.advance(SILENT_AFTER_MS);
    health.answered();
    expect(health.isUp()).toBe(true);
    expect(transitions()).toEqual([]);
  });

  it("is lost at a failed round trip and back at the next answer, logging each change once", () => {
    const { health, time, transitions } = healthOnHandClock();
    health.failed(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
    expect(health.isUp()).toBe(false);
    for (let i = 0; i < 5; i++) {
      time.advance(500);
      health.failed(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
      expect(health.isUp()).toBe(false);
    }
    health.answered();
    expect(health.isUp()).toBe(true);
    expect(transitions()).toEqual([
      { ...LOST, reason: "failed" },
      { ...BACK, failures: 6 },
    ]);
  });

  it("is lost when no round trip answered for silentAfterMs, as a hung one", () => {
    const { health, time, transitions } = healthOnHandClock();
    time.advance(SILENT_AFTER_MS);
    expect(health.isUp()).toBe(true);
    time.advance(1);
    expect(health.isUp()).toBe(false);
    expect(health.isUp()).toBe(false);
    health.answered();
    expect(health.isUp()).toBe(true);
    expect(transitions()).toEqual([
      { ...LOST, reason: "silent" },
      { ...BACK, failures: 0 },
    ]);
  });

  it("names the driver's error, not drizzle's wrapper with the statement", () => {
    const log = captureLogger("warn");
    const health = new DatabaseHealth({
      clock: handClock().clock,
      logger: log.logger,
      silentAfterMs: SILENT_AFTER_MS,
    });
    const cause = new Error("read ECONNRESET");
    health.failed(new Error("Failed query: update replicas", { cause }));
    expect(log.lines()).toMatchObject([{ error: "read ECONNRESET" }]);
  });
});

describe("silentAfterMs", () => {
  it("is 10 s, or 20 sweeps when the sweep interval makes that longer", () => {
    expect(silentAfterMs(500)).toBe(10_000);
    expect(silentAfterMs(2000)).toBe(40_000);
  });
});
