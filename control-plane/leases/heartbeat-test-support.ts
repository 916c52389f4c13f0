/**
 * Helpers for the heartbeat tests: registered agents, and what a
 * heartbeat leaves stored.
 */
import { inArray } from "drizzle-orm";
import { registerAgent } from "../agents/register-agent.js";
import { agents, type Db, leases } from "../db/index.js";
import { at } from "../test-support.js";
import type { LeaseRef } from "./acknowledge-lease.js";

/** Registers an agent (its row alone), connected since `at(0)`. */
export async function registered(db: Db, agentId: string): Promise<void> {
  await registerAgent(
    db,
    {
      agentId,
      name: agentId,
      version: "",
      labels: {},
      detectedLabels: {},
      resources: {},
      slots: 4,
      taskTypes: [],
    },
    { sessionId: `session-${agentId}`, replicaId: "r1" },
    [],
    at(0),
  );
}

/** When each agent's last heartbeat was recorded, by agent id. */
export async function lastHeartbeats(
  db: Db,
): Promise<Record<string, Date | null>> {
  const rows = await db
    .select({ id: agents.id, lastHeartbeatAt: agents.lastHeartbeatAt })
    .from(agents);
  return Object.fromEntries(rows.map((r) => [r.id, r.lastHeartbeatAt]));
}

/** When each lease expires, by lease id. */
export async function expiries(
  db: Db,
  leaseIds: readonly string[],
): Promise<Record<string, Date>> {
  const rows = await db
    .select({ id: leases.id, expiresAt: leases.expiresAt })
    .from(leases)
    .where(inArray(leases.id, [...leaseIds]));
  return Object.fromEntries(rows.map((r) => [r.id, r.expiresAt]));
}

/** A lease's id and fencing token alone, as a heartbeat names it. */
export function refOf(
  lease: { leaseId: string; fencingToken: number } | undefined,
): LeaseRef {
  if (!lease) throw new Error("no lease to name");
  return { leaseId: lease.leaseId, fencingToken: lease.fencingToken };
}
