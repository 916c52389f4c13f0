import { and, eq, sql } from "drizzle-orm";
import { type Db, runs, tasks } from "../db/index.js";
import {
  appendRunEvents,
  type RunEventInput,
} from "../events/append-run-events.js";
import { revokeHeldLeases } from "../leases/revoke-held-leases.js";
import { isTerminalRunState } from "../scheduler/states.js";

export type CancelOutcome = "cancelled" | "already_finished" | "not_found";

/**
 * Cancels a run: tasks not yet finished become KILLED, their leases are
 * revoked, and the agents holding them are told to stop the attempts.
 */
export async function cancelRun(
  db: Db,
  runId: string,
  reason: string,
  now: Date,
): Promise<CancelOutcome> {
  return stopRun(
    db,
    runId,
    { state: "CANCELLED", error: reason || "cancelled" },
    now,
  );
}

/**
 * Ends an unfinished run in `state` (CANCELLED by a user, FAILED by its
 * timeout): tasks not yet finished become KILLED, their leases are
 * revoked, and the agents holding them are told to stop the attempts.
 */
export async function stopRun(
  db: Db,
  runId: string,
  end: { state: "CANCELLED" | "FAILED"; error: string },
  now: Date,
): Promise<CancelOutcome> {
  return db.transaction(async (tx) => {
    const [run] = await tx
      .select({ state: runs.state })
      .from(runs)
      .where(eq(runs.id, runId))
      .for("update");
    if (!run) return "not_found";
    if (isTerminalRunState(run.state)) return "already_finished";
    const { error } = end;
    await tx
      .update(runs)
      .set({ state: end.state, error, finishedAt: now })
      .where(eq(runs.id, runId));
    const killed = await tx
      .update(tasks)
      .set({ state: "KILLED", error, finishedAt: now })
      .where(
        and(
          eq(tasks.runId, runId),
          sql`${tasks.state} NOT IN
            ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')`,
        ),
      )
      .returning({ taskId: tasks.taskId, attempt: tasks.attemptCount });
    const holders = await revokeHeldLeases(
      tx,
      { runId },
      { order: "cancelled", error },
      now,
    );
    // Each KILLED event names the attempt it stopped (0: none had begun)
    // and the agent running it, as a kill of one task does.
    const events: RunEventInput[] = killed.map((t) => ({
      runId,
      taskId: t.taskId,
      state: "KILLED",
      attempt: t.attempt,
      agentId: holders.get(t.taskId),
      error,
    }));
    events.push({ runId, state: end.state, error });
    await appendRunEvents(tx, events);
    return "cancelled";
  });
}
