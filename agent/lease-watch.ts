import type { Clock } from "../core/index.js";
import type { LeaseRenewals, OverdueLease } from "./lease-renewals.js";

/** What a LeaseWatch watches and whom it tells. */
export interface LeaseWatchOptions {
  clock: Clock;
  renewals: LeaseRenewals;
  /** Called once for each lease that went unrenewed past its TTL. */
  onOverdue(overdue: OverdueLease): void;
}

/**
 * Checks the held leases on a timer, every quarter of the shortest TTL,
 * so an attempt whose lease the control plane will have taken back is
 * noticed within a quarter TTL of its expiry. The agent also calls
 * `check()` itself at reconnect, when a suspended host's late timers
 * cannot be trusted to have run.
 */
export class LeaseWatch {
  private stopped = false;
  private wake = new AbortController();
  /** The period of the current sleep; Infinity while not sleeping. */
  private sleepingMs = Number.POSITIVE_INFINITY;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: LeaseWatchOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Reports every overdue lease now. */
  check(): void {
    const { clock, renewals, onOverdue } = this.options;
    for (const overdue of renewals.takeOverdue(clock.now())) {
      onOverdue(overdue);
    }
  }

  /**
   * Checks now and starts a new period: a lease with a shorter TTL may
   * have come, or the Welcome changed the default.
   */
  rearm(): void {
    this.wake.abort();
  }

  /**
   * Rearms only if a lease of this TTL needs a shorter period than the
   * current one: a busy agent takes many leases of the same TTL a second,
   * and each rearm is a check of every held lease.
   */
  tighten(ttlMs: number): void {
    if (periodFor(ttlMs) < this.sleepingMs) this.rearm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.loop;
  }

  /** A quarter of the shortest TTL, at least 1 ms. */
  periodMs(): number {
    return periodFor(this.options.renewals.shortestTtlMs());
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const wake = new AbortController();
      this.wake = wake;
      this.sleepingMs = this.periodMs();
      await this.options.clock.sleep(this.sleepingMs, wake.signal);
      this.sleepingMs = Number.POSITIVE_INFINITY;
      if (this.stopped) return;
      this.check();
    }
  }
}

function periodFor(ttlMs: number): number {
  return Math.max(1, Math.floor(ttlMs / 4));
}
