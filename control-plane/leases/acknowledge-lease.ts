import { sql } from "drizzle-orm";
import { type Db, leases, rowsOf } from "../db/index.js";
import { appendRunEventsFrom } from "../events/append-run-events.js";
import type { Pipelined } from "../scheduler/pipelined.js";
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
    (tx, batch) => acknowledgeIn(tx, agentId, batch, now),
    // A reference PostgreSQL refuses (a token out of bigint's range)
    // names no lease: not held, so the agent is told to stop.
    { refuse: () => false },
  );
}

/**
 * One statement for the whole batch: the leases still held become ACTIVE
 * with a fresh expiry; their tasks still ASSIGNED under the same fencing
 * token become RUNNING, with an event each, and their attempts get a
 * start time.
 *
 * With a `pipeline`, the statement is sent at once (see Pipelined).
 *
 * The runs are locked already (inOneTransaction): a cancel holds the run
 * and its tasks and then revokes the lease, so taking the lease first
 * would deadlock.
 */
export async function acknowledgeIn(
  tx: Db,
  agentId: string,
  refs: readonly LeaseRef[],
  now: Date,
  pipeline?: Pipelined,
): Promise<boolean[]> {
  if (refs.length === 0) return [];
  const at = now.toISOString();
  const statement = tx.execute(sql`
      WITH refs AS (
        SELECT * FROM unnest(
          ${sql.param(refs.map((r) => r.leaseId))}::uuid[],
          ${sql.param(refs.map((r) => r.fencingToken))}::bigint[]
        ) AS r(lease_id, fencing_token)
      ),
      held AS (
        UPDATE leases l
        SET state = 'ACTIVE',
            expires_at = ${at}::timestamptz + l.ttl_ms * interval '1 millisecond'
        FROM refs
        WHERE l.id = refs.lease_id AND l.fencing_token = refs.fencing_token
          AND l.agent_id = ${agentId} AND l.state IN ('GRANTED', 'ACTIVE')
        RETURNING l.id, l.run_id, l.task_id, l.attempt, l.fencing_token
      ),
      started AS (
        UPDATE tasks t SET state = 'RUNNING', started_at = ${at}::timestamptz
        FROM held
        WHERE t.run_id = held.run_id AND t.task_id = held.task_id
          AND t.state = 'ASSIGNED' AND t.fencing_token = held.fencing_token
        RETURNING held.id AS lease_id, held.run_id, held.task_id, held.attempt
      ),
      attempts_started AS (
        UPDATE attempts a SET started_at = ${at}::timestamptz
        FROM started WHERE a.lease_id = started.lease_id
      ),
      ${appendRunEventsFrom(sql`
        SELECT run_id, task_id, 'RUNNING', attempt, ${agentId}, '', 0
        FROM started`)}
      SELECT held.id AS lease_id FROM held CROSS JOIN events_notified`);
  const rows = rowsOf<{ lease_id: string }>(
    await (pipeline ? pipeline.ask(statement) : statement),
  );
  const held = new Set(rows.map((row) => row.lease_id));
  return refs.map((ref) => held.has(ref.leaseId));
}
