import { eq } from "drizzle-orm";
import { type Logger, sessionSupersededError } from "../../core/index.js";
import { agents, type Db } from "../db/index.js";
import {
  notifyAgentCommand,
  type SessionStartedCommand,
} from "../notify/channels.js";
import type { AgentSession } from "./agent-session.js";

/**
 * One live session per agent id. When a hello arrives for an agent id
 * that already has a session on this replica, the newer session wins:
 * an agent that restarts, or reconnects, before its old stream is seen
 * dead must not be locked out. The older stream is ended with
 * sessionSupersededError, which an agent takes as "another process runs
 * as me" and stops on instead of reconnecting to fight for the id.
 *
 * The older session's leases are left alone. The same agent reconnecting
 * names them in its hello and re-attaches them (registerAgent); another
 * process does not know them, so they run out and take the lease expiry
 * path while the superseded agent, stopping, kills their attempts.
 *
 * Other replicas hear of the newer session through notifySessionStarted
 * and end theirs when the agents row (its session_id) names the newer.
 *
 * Limits, plainly: an agent of an older version, not knowing the error,
 * reconnects and supersedes the newer session in turn, so two such
 * processes take the id from each other at their reconnect backoff until
 * one is stopped. Two hellos of one id that register within the same few
 * milliseconds can leave both sessions ended (on one replica, when the
 * registrations write the row in the other order than they continue), or
 * both live (on two replicas, when a notification arrives before the
 * other session is in its registry). Serializing hellos of an agent id
 * (an advisory lock on it around registerAgent and the registry update)
 * would close both.
 */
export function supersedeOlderSession(
  newer: AgentSession,
  registry: ReadonlyMap<string, AgentSession>,
  logger: Logger,
): void {
  const older = registry.get(newer.agentId);
  if (older === undefined || older === newer) return;
  end(older, { name: newer.name, peer: newer.peer }, logger);
}

/** Tells every replica that a session of this agent id started. */
export async function notifySessionStarted(
  db: Db,
  newer: AgentSession,
): Promise<void> {
  const command: SessionStartedCommand = {
    kind: "session",
    agentId: newer.agentId,
    sessionId: newer.sessionId,
    name: newer.name,
    peer: newer.peer,
  };
  await notifyAgentCommand(db, command);
}

/**
 * On hearing that a session of this agent id started on some replica:
 * ends this replica's session of it, if the agents row no longer names
 * it. The row, not the notification, decides: of two sessions that said
 * hello on two replicas at once, the one registered last stays.
 */
export async function supersedeIfReplaced(
  db: Db,
  started: SessionStartedCommand,
  registry: ReadonlyMap<string, AgentSession>,
  logger: Logger,
): Promise<void> {
  const mine = registry.get(started.agentId);
  if (mine === undefined || mine.sessionId === started.sessionId) return;
  const [row] = await db
    .select({ sessionId: agents.sessionId })
    .from(agents)
    .where(eq(agents.id, started.agentId));
  if (row?.sessionId !== started.sessionId) return;
  if (registry.get(started.agentId) !== mine) return;
  end(mine, started, logger);
}

function end(
  older: AgentSession,
  newer: { name: string; peer: string },
  logger: Logger,
): void {
  logger.warn(
    {
      agent_id: older.agentId,
      agent_name: older.name,
      session_id: older.sessionId,
      peer: older.peer,
      newer_agent_name: newer.name,
      newer_peer: newer.peer,
    },
    "session superseded by a newer session of its agent id",
  );
  older.end(sessionSupersededError(older.agentId, newer.peer));
}
