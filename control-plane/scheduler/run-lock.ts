import { eq } from "drizzle-orm";
import { type Db, runs } from "../db/index.js";

/**
 * Locks a run's row for the rest of the transaction. Every transaction
 * that changes a run, its tasks or their leases takes this lock first, so
 * two of them never hold each other's rows in opposite orders (a cancel
 * against an acknowledgement, two results of one join). Returns false
 * when there is no such run.
 */
export async function lockRun(tx: Db, runId: string): Promise<boolean> {
  const [run] = await tx
    .select({ id: runs.id })
    .from(runs)
    .where(eq(runs.id, runId))
    .for("update");
  return run !== undefined;
}
