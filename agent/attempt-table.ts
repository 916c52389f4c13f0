import type { Result } from "../gen/deerflow/v1/agent_pb.js";
import type { AbortReason, Attempt } from "./attempt.js";

/** An attempt while it runs on this agent. */
export interface RunningAttempt {
  readonly attempt: Attempt;
  /**
   * Set when the control plane found the lease stale: the result would be
   * refused, so it is not sent (the LeaseKeeper stops renewing the lease).
   */
  dropped: boolean;
}

/**
 * The attempts running on the agent, by lease id. An attempt occupies its
 * slot from start until it has stopped, acknowledged or not.
 */
export class AttemptTable {
  private readonly running = new Map<string, RunningAttempt>();
  private readonly done = new Map<string, Promise<void>>();

  get size(): number {
    return this.running.size;
  }

  get(leaseId: string): RunningAttempt | undefined {
    return this.running.get(leaseId);
  }

  /** Runs an attempt; `ended` gets its result once it has stopped. */
  run(
    attempt: Attempt,
    ended: (result: Result, running: RunningAttempt) => void,
  ): RunningAttempt {
    const leaseId = attempt.lease.leaseId;
    const running: RunningAttempt = { attempt, dropped: false };
    this.running.set(leaseId, running);
    const done = attempt.run().then((result) => {
      this.running.delete(leaseId);
      this.done.delete(leaseId);
      ended(result, running);
    });
    this.done.set(leaseId, done);
    return running;
  }

  /** Aborts every running attempt not named in `keep`. */
  abortAll(reason: AbortReason, keep: ReadonlySet<string> = new Set()): void {
    for (const [leaseId, running] of this.running) {
      if (!keep.has(leaseId)) running.attempt.abort(reason);
    }
  }

  /** Resolves once no attempt runs. */
  async allDone(): Promise<void> {
    while (this.done.size > 0) await Promise.all(this.done.values());
  }
}
