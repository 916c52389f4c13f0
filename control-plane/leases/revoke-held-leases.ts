import { and, eq, inArray } from "drizzle-orm";
import { attempts, type Db, leases } from "../db/index.js";
import { type AgentCommand, notifyAgentCommands } from "../notify/channels.js";
import { HELD_LEASE_STATES } from "./lease-state.js";

/** Which held leases to take back: a run's, or some of its tasks'. */
export interface RevokeScope {
  runId: string;
  taskIds?: readonly string[];
}

/**
 * Takes back held leases because a user killed their attempts: each lease
 * becomes REVOKED, its attempt KILLED, and the replica holding the agent's
 * session is told to stop the attempt. A result the agent sends later is
 * refused as stale. Answers, per task whose lease it took, the agent that
 * held it, for the KILLED events to name.
 */
export async function revokeHeldLeases(
  tx: Db,
  scope: RevokeScope,
  why: { order: "cancelled" | "killed"; error: string },
  now: Date,
): Promise<Map<string, string>> {
  const revoked = await tx
    .update(leases)
    .set({ state: "REVOKED", releasedAt: now })
    .where(
      and(
        eq(leases.runId, scope.runId),
        scope.taskIds === undefined
          ? undefined
          : inArray(leases.taskId, [...scope.taskIds]),
        inArray(leases.state, [...HELD_LEASE_STATES]),
      ),
    )
    .returning();
  if (revoked.length === 0) return new Map();
  await tx
    .update(attempts)
    .set({ outcome: "KILLED", error: why.error, finishedAt: now })
    .where(
      inArray(
        attempts.leaseId,
        revoked.map((l) => l.id),
      ),
    );
  await notifyAgentCommands(
    tx,
    revoked.map(
      (lease): AgentCommand => ({
        kind: "cancel",
        agentId: lease.agentId,
        leaseId: lease.id,
        fencingToken: lease.fencingToken,
        reason: why.order,
      }),
    ),
  );
  return new Map(revoked.map((lease) => [lease.taskId, lease.agentId]));
}
