import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";
import type { LeaseRef } from "./acknowledge-lease.js";

/** One agent's heartbeat: the leases it names, and when it was heard. */
export interface Heartbeat {
  agentId: string;
  refs: readonly LeaseRef[];
  now: Date;
}

/**
 * Records the agent's heartbeat and renews every lease it names that the
 * agent still holds. Returns the ones it no longer holds (stale): the
 * agent must kill their attempts.
 */
export async function renewLeases(
  db: Db,
  agentId: string,
  refs: readonly LeaseRef[],
  now: Date,
): Promise<LeaseRef[]> {
  const [stale] = await renewLeasesOfHeartbeats(db, [{ agentId, refs, now }]);
  return stale ?? [];
}

/**
 * Records many heartbeats in one statement: each agent's
 * last_heartbeat_at, and each named lease renewed from its heartbeat's
 * time if the agent still holds it (same lease id, fencing token and
 * agent). Answers, per heartbeat and in order, the leases it named that
 * were not renewed (stale).
 *
 * With `revokedUntilStopped` (agents' sessions), a revoked lease whose
 * attempt has not been reported stopped is renewed too, and not stale:
 * its expiry is what keeps the task from running again beside the
 * attempt still stopping (a process tree gets seconds to exit), and the
 * agent keeps it to send the result that says the attempt stopped.
 *
 * A heartbeat's data can fail the whole statement (a lease id that is
 * not a uuid): callers that must not let one agent fail the others try
 * each alone then (see HeartbeatRecorder). So can a deadlock: rows are
 * locked in the order PostgreSQL joins them, and another statement that
 * updates many leases (the expiry sweep) may take two of them the other
 * way round. Locking the leases in id order first would rule that out at
 * the cost of one more scan per round.
 */
export async function renewLeasesOfHeartbeats(
  db: Db,
  heartbeats: readonly Heartbeat[],
  options: { revokedUntilStopped?: boolean } = {},
): Promise<LeaseRef[][]> {
  if (heartbeats.length === 0) return [];
  // As JSON documents: postgres.js cannot type an empty array parameter.
  const beats = heartbeats.map((h) => ({
    agent_id: h.agentId,
    at: h.now.toISOString(),
  }));
  const named = heartbeats.flatMap((h) =>
    h.refs.map((r) => ({
      agent_id: h.agentId,
      lease_id: r.leaseId,
      fencing_token: r.fencingToken,
      at: h.now.toISOString(),
    })),
  );
  const renewed = rowsOf<{ key: string }>(
    await db.execute(sql`
      WITH beats AS (
        SELECT agent_id, max(at) AS at
        FROM jsonb_to_recordset(${JSON.stringify(beats)}::jsonb)
          AS b(agent_id text, at timestamptz)
        GROUP BY agent_id
      ), heard AS (
        UPDATE agents SET last_heartbeat_at = beats.at
        FROM beats WHERE agents.id = beats.agent_id
      ), named AS (
        SELECT agent_id, lease_id, fencing_token, max(at) AS at
        FROM jsonb_to_recordset(${JSON.stringify(named)}::jsonb)
          AS n(agent_id text, lease_id uuid, fencing_token bigint,
               at timestamptz)
        GROUP BY agent_id, lease_id, fencing_token
      )
      UPDATE leases SET expires_at =
        named.at + leases.ttl_ms * interval '1 millisecond'
      FROM named
      WHERE leases.id = named.lease_id
        AND leases.fencing_token = named.fencing_token
        AND leases.agent_id = named.agent_id
        AND (leases.state IN ('GRANTED', 'ACTIVE') OR (
          ${options.revokedUntilStopped === true}
          AND leases.state = 'REVOKED' AND leases.stopped_at IS NULL))
      RETURNING leases.agent_id || ' ' || leases.id || ' ' ||
        leases.fencing_token AS key`),
  );
  const held = new Set(renewed.map((r) => r.key));
  return heartbeats.map((h) =>
    h.refs.filter(
      (r) => !held.has(`${h.agentId} ${r.leaseId} ${r.fencingToken}`),
    ),
  );
}
