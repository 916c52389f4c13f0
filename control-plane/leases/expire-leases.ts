import { eq, sql } from "drizzle-orm";
import { type Db, leases, rowsOf } from "../db/index.js";
import { appendRunEventsFrom } from "../events/append-run-events.js";
import { leasesExpired } from "../metrics/process-metrics.js";
import {
  type AgentCommand,
  Channels,
  notifyAgentCommand,
} from "../notify/channels.js";
import { lockRun } from "../scheduler/run-lock.js";
import { closeAttempt, heldLeaseOf } from "./close-attempt.js";

interface DueLease {
  id: string;
  run_id: string;
  state: "GRANTED" | "ACTIVE";
}

/** Leases looked at per pass. */
const BATCH = 100;

/**
 * Takes back leases whose holder stopped renewing them (ACTIVE past
 * expires_at) or never acknowledged them (GRANTED past ack_deadline_at).
 * Each attempt is recorded LOST and retried per its policy. Returns how
 * many leases it took back.
 */
export async function expireLeases(db: Db, now: Date): Promise<number> {
  const due = rowsOf<DueLease>(
    await db.execute(sql`
      SELECT id, run_id, state FROM leases
      WHERE (state = 'ACTIVE' AND expires_at < ${now.toISOString()}::timestamptz)
         OR (state = 'GRANTED'
             AND ack_deadline_at < ${now.toISOString()}::timestamptz)
      LIMIT ${BATCH}`),
  );
  let expired = 0;
  for (const candidate of due) {
    if (await expireOne(db, candidate, now)) expired += 1;
  }
  if (expired > 0) leasesExpired.inc(expired);
  return expired;
}

async function expireOne(db: Db, due: DueLease, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockRun(tx, due.run_id);
    // Another replica may have handled it, or the holder renewed it.
    const [lease] = rowsOf<{
      id: string;
      run_id: string;
      task_id: string;
      attempt: number;
      agent_id: string;
      fencing_token: string | number;
      state: string;
    }>(
      await tx.execute(sql`
        -- Columns named: a prepared SELECT * fails once a migration adds
        -- one ("cached plan must not change result type").
        SELECT id, run_id, task_id, attempt, agent_id, fencing_token, state
        FROM leases WHERE id = ${due.id}
          AND ((state = 'ACTIVE' AND expires_at < ${now.toISOString()}::timestamptz)
            OR (state = 'GRANTED'
                AND ack_deadline_at < ${now.toISOString()}::timestamptz))
        FOR UPDATE SKIP LOCKED`),
    );
    if (!lease) return false;
    const neverStarted = lease.state === "GRANTED";
    await closeAttempt(
      tx,
      heldLeaseOf(lease),
      {
        outcome: "LOST",
        leaseState: neverStarted ? "REVOKED" : "EXPIRED",
        error: neverStarted
          ? "the agent did not acknowledge the assignment in time"
          : "the lease expired: the agent stopped renewing it",
        failure: { retryClass: "lost", retryable: true },
        requeue: neverStarted,
      },
      now,
    );
    if (neverStarted) {
      // Never acknowledged, so never started as far as anyone knows: it
      // does not hold the task back from its next assignment.
      await tx
        .update(leases)
        .set({ stoppedAt: now })
        .where(eq(leases.id, lease.id));
    }
    const command: AgentCommand = {
      kind: "cancel",
      agentId: lease.agent_id,
      leaseId: lease.id,
      fencingToken: Number(lease.fencing_token),
      reason: "lost",
    };
    await notifyAgentCommand(tx, command);
    return true;
  });
}

/** Queues tasks in RETRY whose backoff has passed. Returns how many. */
export async function promoteDueRetries(db: Db, now: Date): Promise<number> {
  const rows = rowsOf<{ run_id: string; task_id: string }>(
    await db.execute(sql`
      WITH due AS (
        SELECT run_id, task_id FROM tasks
        WHERE state = 'RETRY' AND not_before <= ${now.toISOString()}::timestamptz
        LIMIT 500 FOR UPDATE SKIP LOCKED
      ), moved AS (
        UPDATE tasks t SET state = 'QUEUED', queued_at = ${now.toISOString()}::timestamptz
        FROM due WHERE t.run_id = due.run_id AND t.task_id = due.task_id
        RETURNING t.run_id, t.task_id
      ),
      ${appendRunEventsFrom(sql`
        SELECT run_id, task_id, 'QUEUED', 0, '', '', 0 FROM moved`)}
      SELECT run_id, task_id FROM moved CROSS JOIN events_notified`),
  );
  if (rows.length > 0) {
    await db.execute(sql`SELECT pg_notify(${Channels.taskQueued}, '')`);
  }
  return rows.length;
}
