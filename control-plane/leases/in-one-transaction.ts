import { sql } from "drizzle-orm";
import { type Db, planBatchJoinsByKey } from "../db/index.js";

/**
 * Runs `work` on a batch of items inside one transaction, after locking
 * every run the items' leases belong to, in id order. One commit for many
 * acknowledgements or results is what lets an agent's session keep up
 * with thousands of short tasks; the id order means two batches that
 * share runs can never hold each other's locks in opposite orders.
 *
 * `work` answers one value per item, in order. If the batch fails as a
 * whole (a bug or a broken row, not a refused lease: those are answers),
 * each item is retried alone, so one bad item cannot take the others'
 * outcomes with it.
 */
export async function inOneTransaction<T, R>(
  db: Db,
  items: readonly T[],
  leaseIdOf: (item: T) => string,
  work: (tx: Db, items: readonly T[]) => Promise<R[]>,
  options: InOneTransactionOptions<T, R> = {},
): Promise<R[]> {
  if (items.length === 0) return [];
  const once = (batch: readonly T[]) =>
    db.transaction(async (tx) => {
      await Promise.all([
        planBatchJoinsByKey(tx),
        lockRunsOfLeases(tx, batch.map(leaseIdOf)),
      ]);
      return work(tx, batch);
    });
  const alone = async (item: T): Promise<R[]> => {
    try {
      return await once([item]);
    } catch (error) {
      const answer = isDataError(error)
        ? options.refuse?.(item, error as Error)
        : undefined;
      if (answer === undefined) throw error;
      return [answer];
    }
  };
  if (items.length === 1) return alone(items[0] as T);
  try {
    return await once(items);
  } catch {
    const results: R[] = [];
    for (const item of items) results.push(...(await alone(item)));
    return results;
  }
}

export interface InOneTransactionOptions<T, R> {
  /**
   * The answer for an item that fails alone because PostgreSQL refused
   * its data (SQLSTATE class 22): without one, the error is thrown, and
   * an agent that resends the item would fail the same way for ever.
   */
  refuse?: (item: T, error: Error) => R;
}

/** Whether PostgreSQL refused a value (SQLSTATE class 22, data exception). */
export function isDataError(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("22")) return true;
  }
  return false;
}

/** Locks the runs of some leases, in id order, in one statement. */
export async function lockRunsOfLeases(
  tx: Db,
  leaseIds: readonly string[],
): Promise<void> {
  if (leaseIds.length === 0) return;
  await tx.execute(sql`
    SELECT id FROM runs
    WHERE id IN (
      SELECT run_id FROM leases
      WHERE id = ANY(${sql.param([...new Set(leaseIds)])}::uuid[]))
    ORDER BY id
    FOR UPDATE`);
}
