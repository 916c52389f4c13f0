import { and, eq, sql } from "drizzle-orm";
import { attempts, type Db, leases, tasks } from "../db/index.js";
import { appendRunEvents } from "../events/append-run-events.js";
import { inOneTransaction } from "./in-one-transaction.js";

/** Names a lease and its fencing token. */
export interface LeaseRef {
  leaseId: string;
  fencingToken: number;
}

/** `now` plus the lease's own lifetime, in SQL. */
export function expiresFrom(now: Date) {
  return sql`${now.toISOString()}::timestamptz + ${leases.ttlMs} * interval '1 millisecond'`;
}

/**
 * Marks a granted lease active and its task RUNNING. Returns false when
 * the lease is no longer this agent's to start (revoked or superseded).
 */
export async function acknowledgeLease(
  db: Db,
  agentId: string,
  ref: LeaseRef,
  now: Date,
): Promise<boolean> {
  const [held] = await acknowledgeLeases(db, agentId, [ref], now);
  return held ?? false;
}

/**
 * Acknowledges many leases of one agent in one transaction (see
 * {@link inOneTransaction}); for each, whether it is still held.
 */
export function acknowledgeLeases(
  db: Db,
  agentId: string,
  refs: readonly LeaseRef[],
  now: Date,
): Promise<boolean[]> {
  return inOneTransaction(
    db,
    refs,
    (ref) => ref.leaseId,
    (tx, ref) => acknowledgeIn(tx, agentId, ref, now),
  );
}

async function acknowledgeIn(
  tx: Db,
  agentId: string,
  ref: LeaseRef,
  now: Date,
): Promise<boolean> {
  {
    // The run is locked already (inOneTransaction): a cancel holds the run
    // and its tasks and then revokes this lease, so taking the lease first
    // would deadlock.
    const [lease] = await tx
      .update(leases)
      .set({
        state: "ACTIVE",
        expiresAt: expiresFrom(now),
      })
      .where(
        and(
          eq(leases.id, ref.leaseId),
          eq(leases.agentId, agentId),
          eq(leases.fencingToken, ref.fencingToken),
          sql`${leases.state} IN ('GRANTED', 'ACTIVE')`,
        ),
      )
      .returning();
    if (!lease) return false;
    const started = await tx
      .update(tasks)
      .set({ state: "RUNNING", startedAt: now })
      .where(
        and(
          eq(tasks.runId, lease.runId),
          eq(tasks.taskId, lease.taskId),
          eq(tasks.state, "ASSIGNED"),
          eq(tasks.fencingToken, ref.fencingToken),
        ),
      )
      .returning({ taskId: tasks.taskId });
    if (started.length === 0) return true;
    await tx
      .update(attempts)
      .set({ startedAt: now })
      .where(eq(attempts.leaseId, lease.id));
    await appendRunEvents(tx, [
      {
        runId: lease.runId,
        taskId: lease.taskId,
        state: "RUNNING",
        attempt: lease.attempt,
        agentId,
      },
    ]);
    return true;
  }
}
