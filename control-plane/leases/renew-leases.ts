import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";
import type { LeaseRef } from "./acknowledge-lease.js";

/**
 * Records the agent's heartbeat and renews every lease it names that the
 * agent still holds, in one statement. Returns the ones it no longer holds (stale): the agent must
 * kill their attempts.
 */
export async function renewLeases(
  db: Db,
  agentId: string,
  refs: readonly LeaseRef[],
  now: Date,
): Promise<LeaseRef[]> {
  await db.execute(sql`
    UPDATE agents SET last_heartbeat_at = ${now.toISOString()}::timestamptz
    WHERE id = ${agentId}`);
  if (refs.length === 0) return [];
  const renewed = rowsOf<{ id: string }>(
    await db.execute(sql`
      UPDATE leases SET expires_at =
        ${now.toISOString()}::timestamptz + ttl_ms * interval '1 millisecond'
      WHERE agent_id = ${agentId}
        AND state IN ('GRANTED', 'ACTIVE')
        AND (id, fencing_token) IN (
          SELECT * FROM unnest(
            ${sql.param(refs.map((r) => r.leaseId))}::uuid[],
            ${sql.param(refs.map((r) => r.fencingToken))}::bigint[]))
      RETURNING id`),
  );
  const held = new Set(renewed.map((r) => r.id));
  return refs.filter((r) => !held.has(r.leaseId));
}
