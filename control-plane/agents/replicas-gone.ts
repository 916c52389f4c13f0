import { inArray } from "drizzle-orm";
import { type Db, replicas } from "../db/index.js";
import { POLLER_SILENT_MS, POLLING_SESSION } from "../leases/polling-worker.js";
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

/**
 * Whether an agent its row calls connected is gone: its replica died
 * (see replicasGone), or, a polling worker, it stopped calling.
 */
export function agentGone(
  row: {
    state: AgentStateName;
    replicaId: string | null;
    sessionId: string | null;
    lastHeartbeatAt: Date | null;
  },
  goneReplicas: ReadonlySet<string>,
  now: number,
): boolean {
  if (row.state === "DISCONNECTED") return false;
  if (row.sessionId === POLLING_SESSION) {
    const heard = row.lastHeartbeatAt?.getTime() ?? 0;
    return now - heard > POLLER_SILENT_MS;
  }
  return goneReplicas.has(row.replicaId ?? "");
}
