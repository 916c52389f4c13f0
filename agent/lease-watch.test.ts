import { describe, expect, it } from "vitest";
import { LeaseRenewals, type OverdueLease } from "./lease-renewals.js";
import { LeaseWatch } from "./lease-watch.js";
import { ManualClock } from "./manual-clock.js";
import { assignment } from "./session-test-kit.js";

function setUp() {
  const clock = new ManualClock(0);
  const renewals = new LeaseRenewals();
  renewals.defaultTtlMs = 1_000;
  const reported: { atMs: number; overdue: OverdueLease }[] = [];
  const watch = new LeaseWatch({
    clock,
    renewals,
    onOverdue: (overdue) => reported.push({ atMs: clock.now(), overdue }),
  });
  return { clock, renewals, reported, watch };
}

describe("LeaseWatch", () => {
  it("checks every quarter of the TTL and reports a lapsed lease", async () => {
    const { clock, renewals, reported, watch } = setUp();
    renewals.track(assignment("wait"), 0);
    watch.start();
    await clock.whenSleeping(250);
    await clock.advance(1_000);
    expect(reported).toEqual([]);
    await clock.advance(250);
    expect(reported.map((r) => [r.atMs, r.overdue.unrenewedMs])).toEqual([
      [1_250, 1_250],
    ]);
    await clock.advance(2_000);
    expect(reported).toHaveLength(1);
    await watch.stop();
  });

  it("takes a shorter TTL into its period once rearmed", async () => {
    const { clock, renewals, reported, watch } = setUp();
    watch.start();
    await clock.whenSleeping(250);
    renewals.track(assignment("wait", { leaseTtlMs: 100 }), 0);
    const armed = clock.whenSleeping(25);
    watch.rearm();
    await armed;
    expect(watch.periodMs()).toBe(25);
    await clock.advance(125);
    expect(reported.map((r) => r.atMs)).toEqual([125]);
    await watch.stop();
  });

  it("keeps its period for a lease of the same TTL", async () => {
    const { clock, renewals, reported, watch } = setUp();
    renewals.track(assignment("wait"), 0);
    watch.start();
    await clock.whenSleeping(250);
    await clock.advance(200);
    // A rearm here would move the checks to 450, 700, 950, 1,200.
    watch.tighten(1_000);
    await clock.whenSleeping(250);
    await clock.advance(1_050);
    expect(reported.map((r) => r.atMs)).toEqual([1_250]);
    await watch.stop();
  });

  it("tightens its period for a shorter TTL", async () => {
    const { clock, renewals, reported, watch } = setUp();
    watch.start();
    await clock.whenSleeping(250);
    renewals.track(assignment("short", { leaseTtlMs: 100 }), 0);
    const armed = clock.whenSleeping(25);
    watch.tighten(100);
    await armed;
    await clock.advance(125);
    expect(reported.map((r) => [r.atMs, r.overdue.ttlMs])).toEqual([
      [125, 100],
    ]);
    await watch.stop();
  });

  it("reports at once when checked, as at reconnect", () => {
    const { clock, renewals, reported, watch } = setUp();
    renewals.track(assignment("wait"), 0);
    clock.jump(5_000);
    watch.check();
    expect(reported.map((r) => r.overdue.unrenewedMs)).toEqual([5_000]);
  });

  it("stops checking once stopped", async () => {
    const { clock, renewals, reported, watch } = setUp();
    renewals.track(assignment("wait"), 0);
    watch.start();
    await watch.stop();
    await clock.advance(10_000);
    expect(reported).toEqual([]);
  });
});
