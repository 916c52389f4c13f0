import { sql } from "drizzle-orm";
import type { Db } from "./database.js";

/**
 * Has the planner join a batch (an `unnest` of the leases, results or
 * tasks a statement works on) to its tables by key, one index lookup a
 * row, for the rest of the transaction.
 *
 * Statements are prepared, and PostgreSQL keeps the generic plan it
 * makes on a connection's sixth call, estimating ten rows for any
 * unnest. Made while a fresh database's tables are small, that plan
 * hashes the batch and reads the whole table: cheaper for 1,650 leases,
 * it stayed in use as they grew, and a settle of 256 results at 60,000
 * leases read all of them (and all attempts), taking twice as long a
 * result as at 20,000. The statements of these transactions all read
 * by key, so joins that read whole tables are never what they need.
 *
 * A cached plan keeps the settings it was made under. The statements
 * only these transactions send (the settle's close, the acknowledgement,
 * the claim) are always planned with them; those also sent elsewhere
 * (the advance's, the events') keep whichever plan their connection
 * made first, with or without.
 */
const joinBatchesByKey = sql`
  SELECT set_config('enable_hashjoin', 'off', true),
    set_config('enable_mergejoin', 'off', true)`;

/** Sends joinBatchesByKey on `tx`; resolves when it has run. */
export async function planBatchJoinsByKey(tx: Db): Promise<void> {
  await tx.execute(joinBatchesByKey);
}
