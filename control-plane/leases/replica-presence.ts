import { eq, sql } from "drizzle-orm";
import { type Db, replicas, rowsOf } from "../db/index.js";

/** Serializes replicas joining, so that a downtime is credited once. */
const JOIN_LOCK_KEY = 0x6466_6a6f_696e; // "dfjoin"

/** Rows of replicas not seen for this long are dropped at a join. */
const FORGET_AFTER_MS = 7 * 24 * 3600 * 1000;

export interface JoinOutcome {
  /** Milliseconds added to every held lease; 0 when a replica was up. */
  creditedMs: number;
}

/**
 * Registers a starting replica. When no replica was seen for longer than
 * `downtimeAfterMs`, the time since the last one was seen is added to
 * every held lease and acknowledgement deadline: lease expiry does not
 * count time when no control plane was up (SPEC §4), so agents get their
 * full lease to reconnect and re-attach.
 */
export async function joinReplicas(
  db: Db,
  replicaId: string,
  now: Date,
  downtimeAfterMs: number,
): Promise<JoinOutcome> {
  return db.transaction(async (tx) => {
    const creditedMs = await creditGap(tx, now, downtimeAfterMs);
    const forgetBefore = new Date(now.getTime() - FORGET_AFTER_MS);
    await tx.execute(sql`
      DELETE FROM replicas
      WHERE last_seen_at < ${forgetBefore.toISOString()}::timestamptz`);
    await tx
      .insert(replicas)
      .values({ id: replicaId, startedAt: now, lastSeenAt: now })
      .onConflictDoUpdate({
        target: replicas.id,
        set: { startedAt: now, lastSeenAt: now },
      });
    return { creditedMs };
  });
}

/**
 * Marks a replica seen again after it could not reach the database (a
 * sweep failed). When no replica reached it for longer than
 * `downtimeAfterMs` (an outage of the database, or of the network to
 * it), that time is credited to every held lease as at a join: no
 * control plane could record the agents' heartbeats then, and their
 * attempts, and the results they hold, must not be lost for it.
 */
export async function rejoinReplicas(
  db: Db,
  replicaId: string,
  now: Date,
  downtimeAfterMs: number,
): Promise<JoinOutcome> {
  return db.transaction(async (tx) => {
    const creditedMs = await creditGap(tx, now, downtimeAfterMs);
    await tx
      .insert(replicas)
      .values({ id: replicaId, startedAt: now, lastSeenAt: now })
      .onConflictDoUpdate({
        target: replicas.id,
        set: { lastSeenAt: now },
      });
    return { creditedMs };
  });
}

/**
 * Adds the time since any replica was last seen to every held lease and
 * acknowledgement deadline, when it is longer than `downtimeAfterMs`;
 * returns what it added. Under a lock, so that replicas coming back
 * together credit one gap once: the first marks itself seen, and the
 * others find no gap.
 */
async function creditGap(
  tx: Db,
  now: Date,
  downtimeAfterMs: number,
): Promise<number> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${JOIN_LOCK_KEY})`);
  const [row] = rowsOf<{ last: string | Date | null }>(
    await tx.execute(sql`SELECT max(last_seen_at) AS last FROM replicas`),
  );
  const last = row?.last ? new Date(row.last) : undefined;
  const gapMs = last ? now.getTime() - last.getTime() : 0;
  const creditedMs = gapMs > downtimeAfterMs ? gapMs : 0;
  if (creditedMs > 0) {
    await tx.execute(sql`
      UPDATE leases
      SET expires_at = expires_at + ${creditedMs} * interval '1 millisecond',
          ack_deadline_at =
            ack_deadline_at + ${creditedMs} * interval '1 millisecond'
      WHERE state IN ('GRANTED', 'ACTIVE')`);
  }
  return creditedMs;
}

/** Records that a replica is up; called on every lease sweep. */
export async function markReplicaSeen(
  db: Db,
  replicaId: string,
  now: Date,
): Promise<void> {
  await db
    .update(replicas)
    .set({ lastSeenAt: now })
    .where(eq(replicas.id, replicaId));
}
