import { and, eq, inArray, sql } from "drizzle-orm";
import { type Db, rowsOf, runs, tasks } from "../db/index.js";
import { appendRunEvents } from "../events/append-run-events.js";
import { revokeHeldLeases } from "../leases/revoke-held-leases.js";
import { advanceRun } from "../scheduler/advance-run.js";
import {
  isTerminalTaskState,
  type TaskStateName,
} from "../scheduler/states.js";

export type KillOutcome =
  | { kind: "killed" }
  | { kind: "already_finished"; state: TaskStateName }
  | { kind: "not_found" };

/**
 * Kills one task: a waiting task never starts, a running attempt is
 * stopped (its lease revoked, its agent told). The task ends KILLED and
 * the run moves on as after any failure.
 */
export async function killTask(
  db: Db,
  runId: string,
  taskId: string,
  reason: string,
  now: Date,
): Promise<KillOutcome> {
  return db.transaction(async (tx) => {
    const [run] = await tx
      .select({ id: runs.id })
      .from(runs)
      .where(eq(runs.id, runId))
      .for("update");
    if (!run) return { kind: "not_found" };
    const where = and(eq(tasks.runId, runId), eq(tasks.taskId, taskId));
    const [task] = await tx
      .select({ state: tasks.state })
      .from(tasks)
      .where(where)
      .for("update");
    if (!task) return { kind: "not_found" };
    if (isTerminalTaskState(task.state)) {
      return { kind: "already_finished", state: task.state };
    }
    const error = reason || "killed";
    // A group (for_each or dynamic) takes its unfinished children with it.
    const killed = [taskId, ...(await openDescendants(tx, runId, taskId))];
    const attempts = new Map(
      (
        await tx
          .update(tasks)
          .set({ state: "KILLED", error, finishedAt: now })
          .where(and(eq(tasks.runId, runId), inArray(tasks.taskId, killed)))
          .returning({ taskId: tasks.taskId, attempt: tasks.attemptCount })
      ).map((t) => [t.taskId, t.attempt]),
    );
    const holders = await revokeHeldLeases(
      tx,
      { runId, taskIds: killed },
      { order: "killed", error },
      now,
    );
    // Each KILLED event names the agent whose attempt it stopped.
    await appendRunEvents(
      tx,
      killed.map((id) => ({
        runId,
        taskId: id,
        state: "KILLED" as const,
        attempt: attempts.get(id) ?? 0,
        agentId: holders.get(id),
        error,
      })),
    );
    await advanceRun(tx, runId, [taskId], now);
    return { kind: "killed" };
  });
}

/** The unfinished tasks under a group, at any depth. */
async function openDescendants(
  tx: Db,
  runId: string,
  taskId: string,
): Promise<string[]> {
  const rows = rowsOf<{ task_id: string }>(
    await tx.execute(sql`
      WITH RECURSIVE below(task_id) AS (
        SELECT task_id FROM tasks
        WHERE run_id = ${runId} AND spec->>'parent' = ${taskId}
        UNION
        SELECT t.task_id FROM tasks t JOIN below b
          ON t.run_id = ${runId} AND t.spec->>'parent' = b.task_id
      )
      SELECT task_id FROM tasks
      WHERE run_id = ${runId}
        AND task_id IN (SELECT task_id FROM below)
        AND state NOT IN ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')`),
  );
  return rows.map((row) => row.task_id);
}
