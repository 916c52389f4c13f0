import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";
import { stopRun } from "./cancel-run.js";

/** Runs ended per sweep; the rest wait for the next one. */
const BATCH = 100;

/**
 * Fails every unfinished run past its deadline, its definition's
 * `timeout` (seconds, counted from when the run was submitted): its
 * unfinished tasks are killed and their attempts stopped, as on a cancel.
 * Returns the ids of the runs it ended. Overdue runs are found through
 * the index `runs_deadline`, and only their definitions are read.
 */
export async function timeOutRuns(db: Db, now: Date): Promise<string[]> {
  const overdue = rowsOf<{ id: string; timeout: number }>(
    await db.execute(sql`
      SELECT id, (definition->>'timeout')::float8 AS timeout FROM runs
      WHERE deadline_at <= ${now.toISOString()}::timestamptz
        AND deadline_at IS NOT NULL AND state IN ('PENDING', 'RUNNING')
      ORDER BY deadline_at
      LIMIT ${BATCH}`),
  );
  const ended: string[] = [];
  for (const run of overdue) {
    const outcome = await stopRun(
      db,
      run.id,
      {
        state: "FAILED",
        error: `the run exceeded its timeout of ${run.timeout} s`,
      },
      now,
    );
    if (outcome === "cancelled") ended.push(run.id);
  }
  return ended;
}
