import { sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { type Db, rowsOf, taskMetrics } from "../db/index.js";
import type { LeaseRef } from "../leases/acknowledge-lease.js";
import { Channels } from "../notify/channels.js";

/** One line of a task's log as the agent sends it. */
export interface TaskLogLine {
  sequence: number;
  time: Date;
  stream: string;
  level: string;
  message: string;
  fields?: JsonObject | undefined;
}

export interface TaskMetricPoint {
  name: string;
  kind: string;
  value: number;
  labels: Record<string, string>;
  time: Date;
}

interface Owner {
  run_id: string;
  task_id: string;
  attempt: number;
}

/**
 * Leases whose attempt may still write: held, released by its own result
 * (lines sent before it may arrive after), or revoked and still stopping
 * (what a process says as it shuts down is part of its log; refusing it
 * told the agent to drop the attempt, so the result that says it stopped,
 * which frees the task and its resources, was never sent).
 */
const WRITING = sql`(state IN ('GRANTED', 'ACTIVE', 'RELEASED')
  OR (state = 'REVOKED' AND stopped_at IS NULL))`;

/**
 * The attempt a lease covers, when the agent is its holder (or was, up to
 * its own result or until a revoked attempt stopped). Expired leases own
 * nothing any more.
 */
async function leaseOwner(
  db: Db,
  agentId: string,
  ref: LeaseRef,
): Promise<Owner | undefined> {
  const [owner] = rowsOf<Owner>(
    await db.execute(sql`
      SELECT run_id, task_id, attempt FROM leases
      WHERE id = ${ref.leaseId} AND agent_id = ${agentId}
        AND fencing_token = ${ref.fencingToken} AND ${WRITING}`),
  );
  return owner;
}

/**
 * Stores log lines of an attempt. Lines the agent resends are kept once.
 * Returns false when the lease is not the agent's.
 *
 * One statement: the lease's owner, the lines, and the wakeup of the
 * task log's followers on every replica, sent at its commit. Log chunks
 * arrive on the same sessions as results, so each costs one round trip.
 */
export async function appendTaskLogs(
  db: Db,
  agentId: string,
  ref: LeaseRef,
  lines: readonly TaskLogLine[],
): Promise<boolean> {
  if (lines.length === 0) {
    return (await leaseOwner(db, agentId, ref)) !== undefined;
  }
  const rows = lines.map((line) => ({
    sequence: line.sequence,
    time: line.time.toISOString(),
    stream: line.stream,
    level: line.level,
    message: line.message,
    fields: line.fields ?? null,
  }));
  const [answer] = rowsOf<{ owned: boolean }>(
    await db.execute(sql`
      WITH owner AS (
        SELECT run_id, task_id, attempt FROM leases
        WHERE id = ${ref.leaseId} AND agent_id = ${agentId}
          AND fencing_token = ${ref.fencingToken} AND ${WRITING}
      ),
      added AS (
        INSERT INTO task_logs (run_id, task_id, attempt, sequence, time,
          stream, level, message, fields)
        SELECT owner.run_id, owner.task_id, owner.attempt, l.sequence,
          l.time, l.stream, l.level, l.message, l.fields
        FROM owner, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS l(
          sequence bigint, time timestamptz, stream text, level text,
          message text, fields jsonb)
        ON CONFLICT DO NOTHING
      )
      SELECT EXISTS (SELECT 1 FROM owner) AS owned,
        (SELECT pg_notify(${Channels.taskLog}, run_id::text) FROM owner)`),
  );
  return answer?.owned === true;
}

/** Stores metric points of an attempt; false when the lease is not held. */
export async function appendTaskMetrics(
  db: Db,
  agentId: string,
  ref: LeaseRef,
  points: readonly TaskMetricPoint[],
): Promise<boolean> {
  const owner = await leaseOwner(db, agentId, ref);
  if (!owner) return false;
  if (points.length === 0) return true;
  await db.insert(taskMetrics).values(
    points.map((p) => ({
      runId: owner.run_id,
      taskId: owner.task_id,
      attempt: owner.attempt,
      ...p,
    })),
  );
  return true;
}
