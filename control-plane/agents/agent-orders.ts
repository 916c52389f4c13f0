import { eq, like, or, sql } from "drizzle-orm";
import { agents, type Db } from "../db/index.js";
import { POLLING_SESSION } from "../leases/polling-worker.js";
import { type AgentCommand, notifyAgentCommand } from "../notify/channels.js";

type AgentRow = typeof agents.$inferSelect;

export type FindOutcome =
  | { kind: "found"; agent: AgentRow }
  | { kind: "not_found" }
  | { kind: "ambiguous"; count: number };

/** Shortest id prefix accepted, as `agents ls` shows it. */
const MIN_ID_PREFIX = 8;

/**
 * An agent by id; else by name, when exactly one agent has that name;
 * else by an id prefix of at least eight characters that only one agent's
 * id starts with.
 */
export async function findAgent(db: Db, ref: string): Promise<FindOutcome> {
  const prefix =
    ref.length >= MIN_ID_PREFIX && /^[0-9a-f-]+$/i.test(ref)
      ? like(agents.id, `${ref}%`)
      : undefined;
  const rows = await db
    .select()
    .from(agents)
    .where(or(eq(agents.id, ref), eq(agents.name, ref), prefix));
  const byId = rows.find((r) => r.id === ref);
  if (byId) return { kind: "found", agent: byId };
  const byName = rows.filter((r) => r.name === ref);
  const matches = byName.length > 0 ? byName : rows;
  if (matches.length === 0) return { kind: "not_found" };
  if (matches.length > 1) return { kind: "ambiguous", count: matches.length };
  return { kind: "found", agent: matches[0] as AgentRow };
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
        // A stream's drain ends with its session; a polling worker's
        // (it has no session to end) with an uncordon.
        state: sql`CASE
          WHEN ${agents.sessionId} IS NULL THEN 'DISCONNECTED'
          WHEN ${agents.state} = 'DRAINING'
            AND (${agents.sessionId} <> ${POLLING_SESSION} OR ${cordoned})
            THEN 'DRAINING'
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
  await notifyAgentCommand(tx, command);
}
