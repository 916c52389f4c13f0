import { sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { type Db, rowsOf, taskLogs, taskMetrics } from "../db/index.js";
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
 * The attempt a lease covers, when the agent is its holder (or was, up to
 * its own result). Expired and revoked leases own nothing any more.
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
        AND fencing_token = ${ref.fencingToken}
        AND state IN ('GRANTED', 'ACTIVE', 'RELEASED')`),
  );
  return owner;
}

/**
 * Stores log lines of an attempt. Lines the agent resends are kept once.
 * Returns false when the lease is not the agent's.
 */
export async function appendTaskLogs(
  db: Db,
  agentId: string,
  ref: LeaseRef,
  lines: readonly TaskLogLine[],
): Promise<boolean> {
  const owner = await leaseOwner(db, agentId, ref);
  if (!owner) return false;
  if (lines.length === 0) return true;
  await db
    .insert(taskLogs)
    .values(
      lines.map((line) => ({
        runId: owner.run_id,
        taskId: owner.task_id,
        attempt: owner.attempt,
        ...line,
        fields: line.fields ?? null,
      })),
    )
    .onConflictDoNothing();
  // Wakes the followers of the task's log on every replica.
  await db.execute(
    sql`SELECT pg_notify(${Channels.taskLog}, ${owner.run_id}::text)`,
  );
  return true;
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
