import { and, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import type { Clock } from "../../core/index.js";
import { agents, type Db, leases } from "../db/index.js";
import {
  type ClaimedAssignment,
  type ClaimingAgent,
  claimTasks,
} from "../dispatch/claim-tasks.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import { leasesGranted } from "../metrics/process-metrics.js";
import { HELD_LEASE_STATES } from "./lease-state.js";

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
 * How often a waiting call claims again without being woken, in case a
 * wakeup was missed (the dispatcher's idle pass does the same).
 */
const CLAIM_AGAIN_MS = 1_000;

/** A polling worker, as its AcquireLease describes it. */
export interface PollingAgent extends ClaimingAgent {
  slots: number;
}

export interface PollOptions {
  db: Db;
  dispatcher: Dispatcher;
  clock: Clock;
  leaseTtlMs: number;
  ackDeadlineMs: number;
}

/**
 * Claims one task for a polling worker, waiting up to `waitMs` for one
 * to fit: claims at once, then again each time tasks may have been
 * queued (on any replica), until one is claimed, the wait runs out or
 * `signal` aborts.
 */
export async function pollForTask(
  worker: PollingAgent,
  waitMs: number,
  options: PollOptions,
  signal?: AbortSignal,
): Promise<ClaimedAssignment | undefined> {
  const deadline = options.clock.now() + waitMs;
  for (;;) {
    const woken = new AbortController();
    const stop = options.dispatcher.onQueueChanged(() => woken.abort());
    try {
      const claimed = await claimForPoller(worker, options);
      if (claimed) {
        leasesGranted.inc();
        return claimed;
      }
      const left = deadline - options.clock.now();
      if (left <= 0 || signal?.aborted) return undefined;
      const abort = () => woken.abort();
      signal?.addEventListener("abort", abort, { once: true });
      await options.clock.sleep(Math.min(left, CLAIM_AGAIN_MS), woken.signal);
      signal?.removeEventListener("abort", abort);
      if (signal?.aborted) return undefined;
    } finally {
      stop();
    }
  }
}

/**
 * One claim for a polling worker, under its agent row's lock, so that its
 * calls (side by side, on any replica) never hold more than `slots`
 * leases; none while it is cordoned or draining.
 */
async function claimForPoller(
  worker: PollingAgent,
  options: PollOptions,
): Promise<ClaimedAssignment | undefined> {
  return options.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ state: agents.state, cordoned: agents.cordoned })
      .from(agents)
      .where(eq(agents.id, worker.agentId))
      .for("update");
    if (!row || row.cordoned || row.state === "DRAINING") return undefined;
    // Held leases, and revoked ones whose attempts may still run.
    const [held] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(leases)
      .where(
        and(
          eq(leases.agentId, worker.agentId),
          or(
            inArray(leases.state, [...HELD_LEASE_STATES]),
            and(
              eq(leases.state, "REVOKED"),
              isNull(leases.stoppedAt),
              gt(leases.expiresAt, new Date(options.clock.now())),
            ),
          ),
        ),
      );
    if ((held?.n ?? 0) >= worker.slots) return undefined;
    const claim = await claimTasks(tx, worker, {
      limit: 1,
      leaseTtlMs: options.leaseTtlMs,
      ackDeadlineMs: options.ackDeadlineMs,
      now: new Date(options.clock.now()),
    });
    return claim.assignments[0];
  });
}
