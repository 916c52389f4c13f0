import type { Clock } from "../core/index.js";

interface Sleeper {
  atMs: number;
  ms: number;
  wake(): void;
}

interface SleepWaiter {
  ms: number;
  resolve(): void;
}

/**
 * A Clock that moves only when a test moves it. Lease expiry, heartbeats
 * and batching then run step by step in tests, without real sleeping and
 * without timed assertions.
 */
export class ManualClock implements Clock {
  private nowMs: number;
  private sleepers: Sleeper[] = [];
  private waiters: SleepWaiter[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.notifyWaiters(ms);
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = { atMs: this.nowMs + ms, ms, wake: resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        "abort",
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  }

  /**
   * Resolves once something sleeps for `ms` (at once when a sleep of that
   * length is already pending): how a test knows a timer was armed.
   */
  whenSleeping(ms: number): Promise<void> {
    if (this.sleepers.some((s) => s.ms === ms)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ms, resolve }));
  }

  /**
   * Moves time forward by `ms`, waking each sleep at its own deadline in
   * order and letting what it woke run (and sleep again) before the next,
   * so a loop with a short period fires as often as it would in real time.
   */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    for (;;) {
      const next = this.earliestDue(targetMs);
      if (next === undefined) break;
      this.sleepers = this.sleepers.filter((s) => s !== next);
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.wake();
      await settle();
    }
    this.nowMs = targetMs;
    await settle();
  }

  /**
   * Moves time forward without waking any sleep, as on a host that was
   * suspended: its timers fire late, after the clock has jumped.
   */
  jump(ms: number): void {
    this.nowMs += ms;
  }

  private earliestDue(targetMs: number): Sleeper | undefined {
    let earliest: Sleeper | undefined;
    for (const sleeper of this.sleepers) {
      if (sleeper.atMs > targetMs) continue;
      if (earliest === undefined || sleeper.atMs < earliest.atMs) {
        earliest = sleeper;
      }
    }
    return earliest;
  }

  private notifyWaiters(ms: number): void {
    const matched = this.waiters.filter((w) => w.ms === ms);
    if (matched.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.ms !== ms);
    for (const waiter of matched) waiter.resolve();
  }
}

/** Lets woken code run its continuations, up to its next await on I/O. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
