import { describe, expect, it } from "vitest";
import { DEFAULT_LEASE_TTL_MS, LeaseRenewals } from "./lease-renewals.js";
import { assignment } from "./session-test-kit.js";

function leaseIdOf(task: ReturnType<typeof assignment>): string {
  return task.lease?.leaseId ?? "";
}

describe("LeaseRenewals", () => {
  it("counts a lease from its assignment, with its TTL or the default", () => {
    const renewals = new LeaseRenewals();
    const own = assignment("wait", { leaseTtlMs: 500 });
    const plain = assignment("wait");
    renewals.track(own, 1_000);
    renewals.track(plain, 1_000);
    const held = renewals.get(leaseIdOf(own));
    expect(held).toMatchObject({ runId: "run-1", onAgentDisconnect: "kill" });
    expect(renewals.ttlMsOf(held as NonNullable<typeof held>)).toBe(500);
    const other = renewals.get(leaseIdOf(plain));
    expect(renewals.ttlMsOf(other as NonNullable<typeof other>)).toBe(
      DEFAULT_LEASE_TTL_MS,
    );
    expect(renewals.shortestTtlMs()).toBe(500);
    renewals.defaultTtlMs = 200;
    expect(renewals.shortestTtlMs()).toBe(200);
  });

  it("reports a lease overdue only past its TTL, and once", () => {
    const renewals = new LeaseRenewals();
    const task = assignment("wait", { leaseTtlMs: 400 });
    renewals.track(task, 0);
    expect(renewals.takeOverdue(400)).toEqual([]);
    const [overdue, ...rest] = renewals.takeOverdue(401);
    expect(rest).toEqual([]);
    expect(overdue?.held.lease.leaseId).toBe(leaseIdOf(task));
    expect(overdue?.ttlMs).toBe(400);
    expect(overdue?.unrenewedMs).toBe(401);
    expect(renewals.takeOverdue(900)).toEqual([]);
    // Renewed and then overdue again: reported again.
    renewals.renew([leaseIdOf(task)], 1_000);
    expect(renewals.takeOverdue(1_300)).toEqual([]);
    expect(renewals.takeOverdue(1_401)).toHaveLength(1);
  });

  it("renews from a heartbeat's send time when its ack comes, save stale leases", () => {
    const renewals = new LeaseRenewals();
    const kept = assignment("wait", { leaseTtlMs: 400 });
    const stale = assignment("wait", { leaseTtlMs: 400 });
    renewals.track(kept, 0);
    renewals.track(stale, 0);
    renewals.heartbeatSent(renewals.refs(), 300);
    // Acks answer heartbeats in order; this one answers the first.
    renewals.heartbeatSent([], 350);
    expect(renewals.heartbeatAcked(new Set([leaseIdOf(stale)]))).toBe(1);
    expect(renewals.get(leaseIdOf(kept))?.renewedAtMs).toBe(300);
    expect(renewals.get(leaseIdOf(stale))?.renewedAtMs).toBe(0);
    expect(renewals.heartbeatAcked(new Set())).toBe(0);
    // An ack with no heartbeat behind it renews nothing.
    expect(renewals.heartbeatAcked(new Set())).toBe(0);
  });

  it("forgets unanswered heartbeats when their stream ends", () => {
    const renewals = new LeaseRenewals();
    const task = assignment("wait");
    renewals.track(task, 0);
    renewals.heartbeatSent(renewals.refs(), 100);
    renewals.sessionEnded();
    renewals.heartbeatSent(renewals.refs(), 500);
    renewals.heartbeatAcked(new Set());
    expect(renewals.get(leaseIdOf(task))?.renewedAtMs).toBe(500);
  });

  it("never moves a renewal back, and ignores leases it does not hold", () => {
    const renewals = new LeaseRenewals();
    const task = assignment("wait");
    renewals.track(task, 1_000);
    renewals.renew([leaseIdOf(task), "lease-unknown"], 500);
    expect(renewals.get(leaseIdOf(task))?.renewedAtMs).toBe(1_000);
    renewals.forget(leaseIdOf(task));
    expect(renewals.size).toBe(0);
    expect(renewals.refs()).toEqual([]);
  });

  it("reads on_agent_disconnect, defaulting to kill", () => {
    const renewals = new LeaseRenewals();
    const keep = assignment("wait", { onAgentDisconnect: "keep_running" });
    const odd = assignment("wait");
    odd.onAgentDisconnect = "sometimes";
    renewals.track(keep, 0);
    renewals.track(odd, 0);
    expect(renewals.get(leaseIdOf(keep))?.onAgentDisconnect).toBe(
      "keep_running",
    );
    expect(renewals.get(leaseIdOf(odd))?.onAgentDisconnect).toBe("kill");
  });
});
