import { randomUUID } from "node:crypto";
import type { Clock } from "../../core/index.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import type { DispatchTarget } from "../dispatch/dispatcher.js";

/**
 * The session id a polling worker's agent row carries: it holds no
 * stream, and is connected while it keeps calling (see POLLER_SILENT_MS).
 */
export const POLLING_SESSION = "polling";

/**
 * A polling worker that has not called AcquireLease or RenewLease for
 * this long is shown disconnected: twice the longest wait.
 */
export const POLLER_SILENT_MS = 120_000;

/** The longest an AcquireLease call waits for work. */
export const MAX_ACQUIRE_WAIT_MS = 60_000;

/**
 * One AcquireLease call waiting for work, as the dispatcher sees it: an
 * agent with one free slot for as long as the call waits. The dispatcher
 * claims for it with every other agent, woken by queued tasks on any
 * replica. An assignment delivered once the call has answered (its wait
 * ran out, or the caller went away) is handed to `late`, which gives it
 * back to the queue.
 */
export class PollingWorker implements DispatchTarget {
  readonly sessionId = `poll:${randomUUID()}`;
  private received: ClaimedAssignment | undefined;
  private answered = false;
  private readonly arrived = new AbortController();

  constructor(
    readonly agentId: string,
    readonly taskTypes: readonly string[],
    readonly labels: Readonly<Record<string, string>>,
    private readonly late: (assignments: ClaimedAssignment[]) => void,
  ) {}

  accepting(): boolean {
    return !this.answered && this.received === undefined;
  }

  freeSlots(): number {
    return this.accepting() ? 1 : 0;
  }

  deliver(assignments: readonly ClaimedAssignment[]): void {
    const [first, ...rest] = assignments;
    if (first === undefined) return;
    if (!this.accepting()) {
      this.late([...assignments]);
      return;
    }
    this.received = first;
    if (rest.length > 0) this.late(rest);
    this.arrived.abort();
  }

  /**
   * Waits until an assignment arrives, `waitMs` passes or `signal`
   * aborts, then takes no more work. Resolves to the assignment, if any.
   */
  async next(
    clock: Clock,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ClaimedAssignment | undefined> {
    const stop = () => this.arrived.abort();
    signal?.addEventListener("abort", stop, { once: true });
    try {
      if (this.received === undefined && !signal?.aborted) {
        await clock.sleep(waitMs, this.arrived.signal);
      }
    } finally {
      signal?.removeEventListener("abort", stop);
      this.answered = true;
    }
    return this.received;
  }
}
