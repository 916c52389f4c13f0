import type { Logger } from "pino";
import type { Clock } from "../core/index.js";
import type {
  Assignment,
  Cancel,
  LeaseRef,
  Welcome,
} from "../gen/deerflow/v1/agent_pb.js";
import type { AttemptTable } from "./attempt-table.js";
import { abortReasonOfCancel } from "./cancel-reason.js";
import { LeaseRenewals, type OverdueLease } from "./lease-renewals.js";
import { LeaseWatch } from "./lease-watch.js";
import type { Outbox } from "./outbox.js";

/** What a LeaseKeeper works on; the agent owns all of it. */
export interface LeaseKeeperOptions {
  clock: Clock;
  /** Scoped to the agent. */
  logger: Logger;
  attempts: AttemptTable;
  outbox: Outbox;
}

/**
 * The agent's side of leases (SPEC §4): which leases it holds, when each
 * was last renewed, what it offers at reconnect and names in heartbeats,
 * and which attempts it must stop because their lease is gone: found
 * stale, cancelled, not re-attached, or unrenewed past its TTL.
 */
export class LeaseKeeper {
  private readonly renewals = new LeaseRenewals();
  private readonly watch: LeaseWatch;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.watch = new LeaseWatch({
      clock: options.clock,
      renewals: this.renewals,
      onOverdue: (overdue) => this.onOverdue(overdue),
    });
  }

  start(): void {
    this.watch.start();
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** Whether it holds any lease: a running attempt's, or a result's. */
  holdsAny(): boolean {
    return this.renewals.size > 0 || this.options.outbox.size > 0;
  }

  /**
   * The leases a Hello offers: running attempts' leases and those of
   * unacknowledged results. Checked first: timers may have run late (a
   * suspended host), and a lease that lapsed must not be offered.
   */
  helloLeases(): LeaseRef[] {
    this.watch.check();
    const held = this.renewals.refs();
    for (const result of this.options.outbox.pending()) {
      if (result.lease !== undefined) held.push(result.lease);
    }
    return held;
  }

  /** Renews what the Welcome re-attached; the rest is lost. */
  welcomed(welcome: Welcome): void {
    if (welcome.leaseTtlMs > 0) {
      this.renewals.defaultTtlMs = welcome.leaseTtlMs;
    }
    const reattached = new Set(
      welcome.reattachedLeases.map((lease) => lease.leaseId),
    );
    this.renewals.renew(reattached, this.options.clock.now());
    for (const lease of this.renewals.refs()) {
      if (!reattached.has(lease.leaseId)) this.renewals.forget(lease.leaseId);
    }
    this.options.attempts.abortAll("lost", reattached);
    this.watch.rearm();
  }

  /** An assignment was acknowledged: its lease counts from now. */
  assigned(assignment: Assignment): void {
    this.renewals.track(assignment, this.options.clock.now());
    this.watch.tighten(
      this.renewals.ttlMsOf({
        assignedTtlMs: Math.max(0, assignment.leaseTtlMs),
      }),
    );
  }

  /** The attempt stopped: its lease is no longer renewed. */
  attemptEnded(leaseId: string): void {
    this.renewals.forget(leaseId);
  }

  /** The leases a heartbeat names now; call only when it is sent. */
  heartbeatLeases(): LeaseRef[] {
    const leases = this.renewals.refs();
    this.renewals.heartbeatSent(leases, this.options.clock.now());
    return leases;
  }

  heartbeatAcked(staleLeases: readonly LeaseRef[]): void {
    const stale = new Set(staleLeases.map((lease) => lease.leaseId));
    const renewed = this.renewals.heartbeatAcked(stale);
    this.options.logger.debug(
      { renewed, stale: stale.size },
      "heartbeat acknowledged",
    );
    for (const lease of staleLeases) this.dropStale(lease);
  }

  /** The stream ended: heartbeats sent on it will not be answered. */
  sessionEnded(): void {
    this.renewals.sessionEnded();
  }

  cancelled(cancel: Cancel): void {
    const lease = cancel.lease;
    const running = lease && this.options.attempts.get(lease.leaseId);
    if (lease === undefined || running === undefined) {
      this.options.logger.debug(
        { reason: cancel.reason },
        "cancel of an unknown lease ignored",
      );
      return;
    }
    const reason = abortReasonOfCancel(cancel.reason);
    if (reason === "stale") {
      this.dropStale(lease);
      return;
    }
    // A lost lease is not the agent's any more: stop renewing it. A killed
    // attempt's lease is renewed until its result is in.
    if (reason === "lost") this.renewals.forget(lease.leaseId);
    running.attempt.abort(reason);
  }

  /** The control plane no longer grants the lease: stop, send nothing. */
  private dropStale(lease: LeaseRef): void {
    this.renewals.forget(lease.leaseId);
    this.options.outbox.remove(lease.leaseId);
    const running = this.options.attempts.get(lease.leaseId);
    if (running === undefined) return;
    running.dropped = true;
    running.attempt.abort("stale");
  }

  /**
   * A lease went unrenewed past its TTL: the control plane will have
   * taken it back and may have given the task to another agent, so the
   * attempt is killed here, unless its task asked to keep running. Its
   * LOST result goes to the outbox; if the next heartbeat's answer names
   * the lease stale first, the result is dropped unsent instead. Either
   * way the control plane records nothing from it.
   */
  private onOverdue({ held, ttlMs, unrenewedMs }: OverdueLease): void {
    const fields = {
      lease_id: held.lease.leaseId,
      run_id: held.runId,
      task_id: held.taskId,
      lease_ttl_ms: ttlMs,
      unrenewed_ms: unrenewedMs,
    };
    const { logger, attempts } = this.options;
    if (held.onAgentDisconnect === "keep_running") {
      logger.info(fields, "lease not renewed in time; attempt keeps running");
      return;
    }
    this.renewals.forget(held.lease.leaseId);
    logger.warn(fields, "lease not renewed in time; killing its attempt");
    attempts.get(held.lease.leaseId)?.attempt.abort("lost");
  }
}
