import { and, eq, inArray, sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { agents, type Db, leases } from "../db/index.js";
import {
  acknowledgeLeases,
  expiresFrom,
  type LeaseRef,
} from "../leases/acknowledge-lease.js";
import { RETURNED } from "../leases/close-attempt.js";
import { HELD_LEASE_STATES } from "../leases/lease-state.js";
import { POLLING_SESSION } from "../leases/polling-worker.js";
import { recordResults } from "../leases/record-result.js";

/** An agent's self-description, checked. */
export interface AgentProfile {
  agentId: string;
  name: string;
  version: string;
  labels: Record<string, string>;
  detectedLabels: Record<string, string>;
  resources: JsonObject;
  slots: number;
  taskTypes: JsonObject[];
  /** The agent process's token (Hello.process_token); "" or absent if none. */
  processToken?: string;
  /**
   * The token of the agent process that held the state dir before this
   * one and died (Hello.predecessor_token); not stored.
   */
  predecessorToken?: string;
}

export interface Registration {
  cordoned: boolean;
  /** Held leases still granted to the agent, renewed. */
  reattached: LeaseRef[];
  /**
   * Leases the agent no longer holds, ended: assignments it never
   * received back in the queue, attempts it no longer runs LOST.
   */
  returned: number;
}

/**
 * Records an agent's hello: its profile, its session and this replica,
 * and re-attaches the leases it still holds from an earlier session.
 */
export async function registerAgent(
  db: Db,
  profile: AgentProfile,
  session: { sessionId: string; replicaId: string },
  held: readonly LeaseRef[],
  now: Date,
): Promise<Registration> {
  // Whether a session of the agent was live until now: then this hello
  // may come from another process with its id, and the leases it does
  // not list are still the older one's to stop (supersedeOlderSession).
  // Unless that session is known to be this very process's, reconnecting,
  // or its dead predecessor's on the state dir.
  const [before] = await db
    .select({ sessionId: agents.sessionId, processToken: agents.processToken })
    .from(agents)
    .where(eq(agents.id, profile.agentId));
  const wasLive =
    before?.sessionId != null &&
    !liveSessionIsThisOrDead(before.processToken, profile);
  const merged = { ...profile.detectedLabels, ...profile.labels };
  const row = {
    id: profile.agentId,
    name: profile.name,
    labels: merged,
    detectedLabels: profile.detectedLabels,
    resources: profile.resources,
    slots: profile.slots,
    taskTypes: profile.taskTypes,
    version: profile.version,
    sessionId: session.sessionId,
    replicaId: session.replicaId,
    processToken: profile.processToken || null,
    connectedAt: now,
    lastHeartbeatAt: now,
  };
  const [saved] = await db
    .insert(agents)
    .values({ ...row, state: "CONNECTED" })
    .onConflictDoUpdate({
      target: agents.id,
      set: {
        ...row,
        // A polling worker calls again and again: a drain stays until
        // an operator uncordons it. A stream's new session starts afresh.
        state: sql`CASE
          WHEN ${agents.state} = 'DRAINING'
            AND ${session.sessionId} = ${POLLING_SESSION} THEN 'DRAINING'
          WHEN ${agents.cordoned} THEN 'CORDONED'
          ELSE 'CONNECTED' END`,
      },
    })
    .returning({ cordoned: agents.cordoned });
  const reattached = await reattach(db, profile.agentId, held, now);
  // A polling worker lists no leases: its calls are not sessions.
  const returned =
    session.sessionId === POLLING_SESSION
      ? 0
      : await returnUnreceived(db, profile.agentId, held, wasLive, now);
  return { cordoned: saved?.cordoned ?? false, reattached, returned };
}

/**
 * Whether the process of the agent's live session (its token `live`) is
 * known not to run anything the hello does not list: it is the process
 * saying hello, or the one it found dead on its state dir.
 */
function liveSessionIsThisOrDead(
  live: string | null,
  profile: AgentProfile,
): boolean {
  if (!live) return false;
  return live === profile.processToken || live === profile.predecessorToken;
}

/**
 * Leases of the agent that its hello does not list (it lists every
 * attempt it runs and every result not yet acknowledged), ended now
 * rather than when they expire:
 * - assignments still GRANTED were sent to a session that ended before
 *   they arrived, as when a hand-off commits while the stream drops. The
 *   agent never had them, so they go back to the queue without using up
 *   an attempt ({@link RETURNED});
 * - attempts ACTIVE are not running any more, unless `wasLive`: the
 *   agent came back after its session ended (a restart, which stopped
 *   what its last run left behind), or while it still looked live from
 *   the same process or from the one that took over its dead
 *   predecessor's state dir, so they end LOST, and their tasks, and
 *   what they held of the agent, are free at once. Otherwise, with a
 *   session still live, the hello may be another process's with the
 *   same id; the older one kills those attempts as it stops, and their
 *   leases expire.
 */
async function returnUnreceived(
  db: Db,
  agentId: string,
  held: readonly LeaseRef[],
  wasLive: boolean,
  now: Date,
): Promise<number> {
  const listed = new Set(held.map((h) => h.leaseId));
  const open = await db
    .select({
      id: leases.id,
      fencingToken: leases.fencingToken,
      state: leases.state,
    })
    .from(leases)
    .where(
      and(
        eq(leases.agentId, agentId),
        inArray(leases.state, wasLive ? ["GRANTED"] : [...HELD_LEASE_STATES]),
      ),
    );
  const unlisted = open.filter((lease) => !listed.has(lease.id));
  if (unlisted.length === 0) return 0;
  const verdicts = await recordResults(
    db,
    agentId,
    unlisted.map((lease) =>
      lease.state === "GRANTED"
        ? {
            leaseId: lease.id,
            fencingToken: lease.fencingToken,
            outcome: "LOST" as const,
            error:
              "the assignment never reached the agent: its session ended first",
            retryable: true,
            retryClass: RETURNED,
            requeue: true,
          }
        : {
            leaseId: lease.id,
            fencingToken: lease.fencingToken,
            outcome: "LOST" as const,
            error: "the agent came back without the attempt: it no longer runs",
            retryable: true,
            retryClass: "lost",
          },
    ),
    now,
  );
  return verdicts.filter((verdict) => verdict.accepted).length;
}

async function reattach(
  db: Db,
  agentId: string,
  held: readonly LeaseRef[],
  now: Date,
): Promise<LeaseRef[]> {
  if (held.length === 0) return [];
  const rows = await db
    .update(leases)
    .set({ expiresAt: expiresFrom(now) })
    .where(
      and(
        eq(leases.agentId, agentId),
        inArray(
          leases.id,
          held.map((h) => h.leaseId),
        ),
        inArray(leases.state, [...HELD_LEASE_STATES]),
      ),
    )
    .returning({ id: leases.id, fencingToken: leases.fencingToken });
  const tokens = new Map(rows.map((r) => [r.id, r.fencingToken]));
  const reattached = held.filter(
    (h) => tokens.get(h.leaseId) === h.fencingToken,
  );
  // The agent runs what it says it holds: an acknowledgement lost with
  // the previous session (a control plane killed before it recorded it)
  // would otherwise leave the lease GRANTED, and the unacknowledged
  // assignment be taken back at its deadline while the attempt runs.
  // Acknowledging again changes nothing for a lease already ACTIVE.
  await acknowledgeLeases(db, agentId, reattached, now);
  return reattached;
}

/** Marks the agent disconnected, unless a newer session took over. */
export async function disconnectAgent(
  db: Db,
  agentId: string,
  sessionId: string,
): Promise<void> {
  await db
    .update(agents)
    .set({ state: "DISCONNECTED", sessionId: null })
    .where(and(eq(agents.id, agentId), eq(agents.sessionId, sessionId)));
}
