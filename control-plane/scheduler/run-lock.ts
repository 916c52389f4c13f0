import { eq } from "drizzle-orm";
import { type Db, leases, runs } from "../db/index.js";

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

/** Locks the run a lease belongs to; its id, or undefined. */
export async function lockRunOfLease(
  tx: Db,
  leaseId: string,
): Promise<string | undefined> {
  const [found] = await tx
    .select({ runId: leases.runId })
    .from(leases)
    .where(eq(leases.id, leaseId));
  if (!found) return undefined;
  return (await lockRun(tx, found.runId)) ? found.runId : undefined;
}
