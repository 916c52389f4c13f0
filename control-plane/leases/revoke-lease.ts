import { type SQL, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";
import { type AgentCommand, notifyAgentCommand } from "../notify/channels.js";
import { lockRun } from "../scheduler/run-lock.js";
import { closeAttempt, heldLeaseOf } from "./close-attempt.js";

/** A lease as RevokeLease and ListLeases show it. */
export interface LeaseRow {
  id: string;
  run_id: string;
  task_id: string;
  attempt: number;
  agent_id: string;
  fencing_token: string | number;
  state: string;
  granted_at: Date | string;
  expires_at: Date | string;
}

export type RevokeOutcome =
  | { revoked: LeaseRow }
  | { notFound: true }
  | { notHeld: LeaseRow };

/**
 * An operator takes a held lease back: its attempt ends LOST and the task
 * is retried by its policy, as if the agent had been lost. The lease
 * becomes REVOKED and its holder is told to stop; until the holder says
 * the attempt stopped, or the lease would have expired, the task is not
 * handed out again, so a retry never runs beside the attempt.
 */
export async function revokeLease(
  db: Db,
  leaseId: string,
  reason: string,
  now: Date,
): Promise<RevokeOutcome> {
  const [found] = await readLeases(db, sql`id = ${leaseId}`);
  if (!found) return { notFound: true };
  return db.transaction(async (tx) => {
    await lockRun(tx, found.run_id);
    const [lease] = await readLeases(
      tx,
      sql`id = ${leaseId} AND state IN ('GRANTED', 'ACTIVE')`,
      { lock: true },
    );
    if (!lease) {
      const [current] = await readLeases(tx, sql`id = ${leaseId}`);
      return { notHeld: current ?? found };
    }
    await closeAttempt(
      tx,
      heldLeaseOf(lease),
      {
        outcome: "LOST",
        leaseState: "REVOKED",
        error: reason
          ? `the lease was revoked: ${reason}`
          : "the lease was revoked",
        failure: { retryClass: "lost", retryable: true },
      },
      now,
    );
    const command: AgentCommand = {
      kind: "cancel",
      agentId: lease.agent_id,
      leaseId: lease.id,
      fencingToken: Number(lease.fencing_token),
      reason: "revoked",
    };
    await notifyAgentCommand(tx, command);
    const [revoked] = await readLeases(tx, sql`id = ${leaseId}`);
    return { revoked: revoked ?? lease };
  });
}

/**
 * Leases matching `where` (SQL over the leases table), newest first; at
 * most `limit`, locked for the transaction with `lock`.
 */
export async function readLeases(
  db: Db,
  where: SQL,
  options: { limit?: number; lock?: boolean } = {},
): Promise<LeaseRow[]> {
  return rowsOf<LeaseRow>(
    await db.execute(sql`
      SELECT id, run_id, task_id, attempt, agent_id, fencing_token, state,
        granted_at, expires_at
      FROM leases WHERE ${where}
      ORDER BY granted_at DESC, id
      LIMIT ${options.limit ?? 1}
      ${options.lock ? sql`FOR UPDATE` : sql``}`),
  );
}
