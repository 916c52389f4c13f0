import { inArray } from "drizzle-orm";
import { type Db, leases, runs } from "../db/index.js";

/**
 * Runs `work` on each item inside one transaction, after locking every
 * run the items' leases belong to, in id order. One commit for many
 * acknowledgements or results is what lets an agent's session keep up
 * with thousands of short tasks; the id order means two batches that
 * share runs can never hold each other's locks in opposite orders.
 *
 * If the batch fails as a whole (a bug or a broken row, not a refused
 * lease: those are answers), each item is retried alone, so one bad item
 * cannot take the others' outcomes with it.
 */
export async function inOneTransaction<T, R>(
  db: Db,
  items: readonly T[],
  leaseIdOf: (item: T) => string,
  work: (tx: Db, item: T) => Promise<R>,
): Promise<R[]> {
  if (items.length <= 1) {
    return db.transaction((tx) => lockThen(tx, items, leaseIdOf, work));
  }
  try {
    return await db.transaction((tx) => lockThen(tx, items, leaseIdOf, work));
  } catch {
    const results: R[] = [];
    for (const item of items) {
      results.push(
        ...(await db.transaction((tx) =>
          lockThen(tx, [item], leaseIdOf, work),
        )),
      );
    }
    return results;
  }
}

async function lockThen<T, R>(
  tx: Db,
  items: readonly T[],
  leaseIdOf: (item: T) => string,
  work: (tx: Db, item: T) => Promise<R>,
): Promise<R[]> {
  const leaseIds = [...new Set(items.map(leaseIdOf))];
  const owners = await tx
    .select({ runId: leases.runId })
    .from(leases)
    .where(inArray(leases.id, leaseIds));
  const runIds = [...new Set(owners.map((o) => o.runId))].sort();
  if (runIds.length > 0) {
    await tx
      .select({ id: runs.id })
      .from(runs)
      .where(inArray(runs.id, runIds))
      .orderBy(runs.id)
      .for("update");
  }
  const results: R[] = [];
  for (const item of items) results.push(await work(tx, item));
  return results;
}
