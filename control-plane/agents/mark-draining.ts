import { and, eq } from "drizzle-orm";
import { agents, type Db } from "../db/index.js";

/**
 * Shows an agent that said it is draining (a credit with `draining`: it
 * was signalled to stop, or an operator drained it) as DRAINING, while
 * `sessionId` is still its session. The session's end makes it
 * DISCONNECTED, as for any agent that goes.
 */
export async function markDraining(
  db: Db,
  agentId: string,
  sessionId: string,
): Promise<void> {
  await db
    .update(agents)
    .set({ state: "DRAINING" })
    .where(and(eq(agents.id, agentId), eq(agents.sessionId, sessionId)));
}
