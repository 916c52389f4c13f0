import { eq, or, sql } from "drizzle-orm";
import { agents, type Db } from "../db/index.js";
import { type AgentCommand, Channels } from "../notify/channels.js";

type AgentRow = typeof agents.$inferSelect;

export type FindOutcome =
  | { kind: "found"; agent: AgentRow }
  | { kind: "not_found" }
  | { kind: "ambiguous"; count: number };

/** An agent by id, or by name when exactly one agent has that name. */
export async function findAgent(db: Db, ref: string): Promise<FindOutcome> {
  const rows = await db
    .select()
    .from(agents)
    .where(or(eq(agents.id, ref), eq(agents.name, ref)));
  const byId = rows.find((r) => r.id === ref);
  if (byId) return { kind: "found", agent: byId };
  if (rows.length === 0) return { kind: "not_found" };
  if (rows.length > 1) return { kind: "ambiguous", count: rows.length };
  return { kind: "found", agent: rows[0] as AgentRow };
}

/**
 * Cordons (no new assignments; running attempts go on) or uncordons an
 * agent. The flag outlives the agent's sessions: a cordoned agent that
 * restarts stays cordoned until an operator uncordons it.
 */
export async function setCordoned(
  db: Db,
  agentId: string,
  cordoned: boolean,
): Promise<AgentRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(agents)
      .set({
        cordoned,
        state: sql`CASE
          WHEN ${agents.sessionId} IS NULL THEN 'DISCONNECTED'
          WHEN ${agents.state} = 'DRAINING' THEN 'DRAINING'
          WHEN ${cordoned} THEN 'CORDONED'
          ELSE 'CONNECTED' END`,
      })
      .where(eq(agents.id, agentId))
      .returning();
    await notifyAgent(tx, { kind: "cordon", agentId, cordoned });
    return row;
  });
}

/**
 * Cordons an agent and tells it to drain: finish its attempts within the
 * grace period, then disconnect.
 */
export async function drainAgent(
  db: Db,
  agentId: string,
  gracePeriodMs: number,
): Promise<AgentRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(agents)
      .set({
        cordoned: true,
        state: sql`CASE WHEN ${agents.sessionId} IS NULL
          THEN 'DISCONNECTED' ELSE 'DRAINING' END`,
      })
      .where(eq(agents.id, agentId))
      .returning();
    await notifyAgent(tx, { kind: "drain", agentId, gracePeriodMs });
    return row;
  });
}

async function notifyAgent(tx: Db, command: AgentCommand): Promise<void> {
  await tx.execute(
    sql`SELECT pg_notify(${Channels.agentCommand}, ${JSON.stringify(command)})`,
  );
}
