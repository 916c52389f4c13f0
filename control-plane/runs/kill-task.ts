import { and, eq } from "drizzle-orm";
import { type Db, runs, tasks } from "../db/index.js";
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
      .select({ state: tasks.state, attempt: tasks.attemptCount })
      .from(tasks)
      .where(where)
      .for("update");
    if (!task) return { kind: "not_found" };
    if (isTerminalTaskState(task.state)) {
      return { kind: "already_finished", state: task.state };
    }
    const error = reason || "killed";
    await tx
      .update(tasks)
      .set({ state: "KILLED", error, finishedAt: now })
      .where(where);
    await revokeHeldLeases(
      tx,
      { runId, taskId },
      { order: "killed", error },
      now,
    );
    await appendRunEvents(tx, [
      { runId, taskId, state: "KILLED", attempt: task.attempt, error },
    ]);
    await advanceRun(tx, runId, [taskId], now);
    return { kind: "killed" };
  });
}
