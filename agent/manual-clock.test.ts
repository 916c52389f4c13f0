import { describe, expect, it } from "vitest";
import { ManualClock } from "./manual-clock.js";

describe("ManualClock", () => {
  it("wakes each sleep at its deadline, letting loops sleep again", async () => {
    const clock = new ManualClock(1_000);
    const ticks: number[] = [];
    const stop = new AbortController();
    const loop = (async () => {
      while (!stop.signal.aborted) {
        await clock.sleep(10, stop.signal);
        if (!stop.signal.aborted) ticks.push(clock.now());
      }
    })();
    const once = clock.sleep(25).then(() => ticks.push(-clock.now()));
    await clock.advance(35);
    expect(ticks).toEqual([1_010, 1_020, -1_025, 1_030]);
    expect(clock.now()).toBe(1_035);
    stop.abort();
    await Promise.all([loop, once]);
  });

  it("ends a sleep when its signal aborts, and skips zero sleeps", async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const sleeping = clock.sleep(1_000, abort.signal);
    abort.abort();
    await sleeping;
    await clock.sleep(0);
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
  });

  it("tells when a sleep of a length is armed", async () => {
    const clock = new ManualClock();
    const armed = clock.whenSleeping(50);
    let woke = false;
    void clock.sleep(50).then(() => {
      woke = true;
    });
    await armed;
    // A sleep already pending counts too.
    await clock.whenSleeping(50);
    expect(woke).toBe(false);
    await clock.advance(50);
    expect(woke).toBe(true);
  });

  it("jumps without waking sleeps, as a suspended host does", async () => {
    const clock = new ManualClock(0);
    let woke = false;
    void clock.sleep(10).then(() => {
      woke = true;
    });
    clock.jump(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woke).toBe(false);
    expect(clock.now()).toBe(100);
    await clock.advance(0);
    expect(woke).toBe(true);
  });
});
