import { inArray } from "drizzle-orm";
import { type Db, replicas } from "../db/index.js";
import type { AgentStateName } from "./agent-state.js";

/** A replica not seen sweeping for this long is taken for dead. */
const REPLICA_GONE_AFTER_MS = 15_000;

/**
 * Replicas of these agents that stopped without saying so (killed): an
 * agent row still says CONNECTED, but its session died with its replica.
 */
export async function replicasGone(
  db: Db,
  rows: readonly { state: AgentStateName; replicaId: string | null }[],
  now: number,
): Promise<Set<string>> {
  const ids = [
    ...new Set(
      rows
        .filter((r) => r.state !== "DISCONNECTED")
        .map((r) => r.replicaId ?? ""),
    ),
  ].filter((id) => id !== "");
  if (ids.length === 0) return new Set();
  const seen = await db
    .select({ id: replicas.id, lastSeenAt: replicas.lastSeenAt })
    .from(replicas)
    .where(inArray(replicas.id, ids));
  const cutoff = now - REPLICA_GONE_AFTER_MS;
  const alive = new Set(
    seen.filter((r) => r.lastSeenAt.getTime() >= cutoff).map((r) => r.id),
  );
  return new Set(ids.filter((id) => !alive.has(id)));
}
