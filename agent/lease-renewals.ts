import type { Assignment, LeaseRef } from "../gen/deerflow/v1/agent_pb.js";

/**
 * What an attempt does when its lease cannot be renewed (SPEC §4):
 * - `kill`: the agent kills it once the lease has surely expired;
 * - `keep_running`: it runs on, and the lease is offered for re-attaching
 *   at the next Hello.
 */
export type OnAgentDisconnect = "kill" | "keep_running";

/** One lease the agent holds, and when it was last renewed. */
export interface HeldLease {
  readonly lease: LeaseRef;
  readonly runId: string;
  readonly taskId: string;
  readonly onAgentDisconnect: OnAgentDisconnect;
  /** The assignment's lease_ttl_ms; 0 when it named none. */
  readonly assignedTtlMs: number;
  renewedAtMs: number;
  /** Reported overdue once; cleared when renewed again. */
  overdue: boolean;
}

/** A lease whose last renewal is older than its TTL. */
export interface OverdueLease {
  readonly held: HeldLease;
  readonly ttlMs: number;
  /** How long the lease has gone without renewal. */
  readonly unrenewedMs: number;
}

/** The control plane's default lease TTL, until a Welcome names one. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

interface SentHeartbeat {
  sentAtMs: number;
  leaseIds: string[];
}

/**
 * The leases the agent holds and the last time each was renewed, as far
 * as the agent can know it: when its assignment was acknowledged, when a
 * HeartbeatAck answered a heartbeat that named it without calling it
 * stale, and when a Welcome re-attached it.
 *
 * A heartbeat's renewal counts from when the heartbeat was sent, not when
 * its ack came: the control plane renewed somewhere in between, so the
 * agent's idea of the expiry is never later than the control plane's.
 * Assignments and Welcomes carry no time of their own; for them the agent
 * counts from their arrival, which is later than the control plane's
 * renewal by one network delay.
 */
export class LeaseRenewals {
  /** The TTL of leases whose assignment named none (the Welcome's). */
  defaultTtlMs = DEFAULT_LEASE_TTL_MS;
  private readonly held = new Map<string, HeldLease>();
  /** Heartbeats of the current stream not yet acked, oldest first. */
  private inFlight: SentHeartbeat[] = [];

  get size(): number {
    return this.held.size;
  }

  /** Starts tracking the lease of an acknowledged assignment. */
  track(assignment: Assignment, nowMs: number): void {
    const lease = assignment.lease;
    if (lease === undefined) throw new Error("assignment.lease is required");
    this.held.set(lease.leaseId, {
      lease,
      runId: assignment.runId,
      taskId: assignment.taskId,
      onAgentDisconnect: onAgentDisconnectOf(assignment.onAgentDisconnect),
      assignedTtlMs: Math.max(0, assignment.leaseTtlMs),
      renewedAtMs: nowMs,
      overdue: false,
    });
  }

  get(leaseId: string): HeldLease | undefined {
    return this.held.get(leaseId);
  }

  /** Stops tracking a lease: its attempt ended, or the lease is gone. */
  forget(leaseId: string): void {
    this.held.delete(leaseId);
  }

  /** The leases to renew and to offer in a Hello. */
  refs(): LeaseRef[] {
    return [...this.held.values()].map((held) => held.lease);
  }

  /** Records a renewal of these leases at `atMs`. */
  renew(leaseIds: Iterable<string>, atMs: number): void {
    for (const leaseId of leaseIds) {
      const held = this.held.get(leaseId);
      if (held === undefined || held.renewedAtMs >= atMs) continue;
      held.renewedAtMs = atMs;
      held.overdue = false;
    }
  }

  /** Records a heartbeat sent on the current stream. */
  heartbeatSent(leases: readonly LeaseRef[], sentAtMs: number): void {
    this.inFlight.push({
      sentAtMs,
      leaseIds: leases.map((lease) => lease.leaseId),
    });
  }

  /**
   * Takes a HeartbeatAck as the answer to the oldest unanswered heartbeat
   * (the control plane answers them in order) and renews what it named,
   * save the stale leases. Returns how many leases it renewed.
   */
  heartbeatAcked(staleLeaseIds: ReadonlySet<string>): number {
    const answered = this.inFlight.shift();
    if (answered === undefined) return 0;
    const renewed = answered.leaseIds.filter((id) => !staleLeaseIds.has(id));
    this.renew(renewed, answered.sentAtMs);
    return renewed.length;
  }

  /** The stream ended: its unanswered heartbeats never will be. */
  sessionEnded(): void {
    this.inFlight = [];
  }

  ttlMsOf(held: Pick<HeldLease, "assignedTtlMs">): number {
    return held.assignedTtlMs > 0 ? held.assignedTtlMs : this.defaultTtlMs;
  }

  /** The shortest TTL of the held leases, else the default TTL. */
  shortestTtlMs(): number {
    let shortest = this.defaultTtlMs;
    for (const held of this.held.values()) {
      shortest = Math.min(shortest, this.ttlMsOf(held));
    }
    return shortest;
  }

  /**
   * Leases whose last renewal is older than their TTL and that were not
   * reported since, each reported once until it is renewed again.
   */
  takeOverdue(nowMs: number): OverdueLease[] {
    const overdue: OverdueLease[] = [];
    for (const held of this.held.values()) {
      const ttlMs = this.ttlMsOf(held);
      const unrenewedMs = nowMs - held.renewedAtMs;
      if (held.overdue || unrenewedMs <= ttlMs) continue;
      held.overdue = true;
      overdue.push({ held, ttlMs, unrenewedMs });
    }
    return overdue;
  }
}

/** Unknown or empty values mean the default, `kill`. */
function onAgentDisconnectOf(value: string): OnAgentDisconnect {
  return value === "keep_running" ? "keep_running" : "kill";
}
