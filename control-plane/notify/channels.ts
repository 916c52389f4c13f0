import { sql } from "drizzle-orm";
import type { Db } from "../db/index.js";

/**
 * LISTEN/NOTIFY channels the replicas share. Notifications only wake
 * replicas up; the rows they point at are the truth.
 */
export const Channels = {
  /** Tasks became QUEUED; dispatchers should look. Payload: empty. */
  taskQueued: "deerflow_task_queued",
  /** A run's history grew. Payload: the run id. */
  runEvent: "deerflow_run_event",
  /** Lines of a task's log were stored. Payload: the run id. */
  taskLog: "deerflow_task_log",
  /**
   * An order for one agent's session, wherever it is connected.
   * Payload: JSON AgentCommand.
   */
  agentCommand: "deerflow_agent_command",
} as const;

/** An order routed to the replica that holds an agent's session. */
export type AgentCommand =
  | {
      kind: "cancel";
      agentId: string;
      leaseId: string;
      fencingToken: number;
      reason: string;
    }
  | { kind: "cordon"; agentId: string; cordoned: boolean }
  | { kind: "drain"; agentId: string; gracePeriodMs: number }
  | SessionStartedCommand;

/**
 * A session of this agent id started (on any replica): another replica's
 * older session of it is superseded (see supersedeIfReplaced).
 */
export interface SessionStartedCommand {
  kind: "session";
  agentId: string;
  sessionId: string;
  /** The newer session's agent name and "address:port", for the logs. */
  name: string;
  peer: string;
}

/**
 * Sends an order to the replica that holds the agent's session, once the
 * transaction commits (NOTIFY is delivered at commit).
 */
export async function notifyAgentCommand(
  tx: Db,
  command: AgentCommand,
): Promise<void> {
  await notifyAgentCommands(tx, [command]);
}

/**
 * {@link notifyAgentCommand} for many orders in one statement: a cancel
 * of a run with a thousand attempts running was a thousand round trips
 * inside the transaction that holds the run.
 */
export async function notifyAgentCommands(
  tx: Db,
  commands: readonly AgentCommand[],
): Promise<void> {
  if (commands.length === 0) return;
  const payloads = commands.map((command) => JSON.stringify(command));
  await tx.execute(sql`
    SELECT pg_notify(${Channels.agentCommand}, payload)
    FROM unnest(${sql.param(payloads)}::text[]) AS payload`);
}
