import { sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { runEvents } from "../db/index.js";
import { Channels } from "../notify/channels.js";

/** One change to record in a run's history. */
export interface RunEventInput {
  runId: string;
  /** Empty for the run's own state. */
  taskId?: string;
  state: string;
  attempt?: number;
  agentId?: string;
  error?: string;
}

/**
 * Appends events to their runs' histories and notifies watchers when the
 * transaction commits.
 */
export async function appendRunEvents(
  tx: Db,
  events: readonly RunEventInput[],
): Promise<void> {
  if (events.length === 0) return;
  await tx.insert(runEvents).values(
    events.map((e) => ({
      runId: e.runId,
      taskId: e.taskId ?? "",
      state: e.state,
      attempt: e.attempt ?? 0,
      agentId: e.agentId ?? "",
      error: e.error ?? "",
    })),
  );
  for (const runId of new Set(events.map((e) => e.runId))) {
    await tx.execute(sql`SELECT pg_notify(${Channels.runEvent}, ${runId})`);
  }
}

/** Wakes every replica's dispatcher when the transaction commits. */
export async function notifyTaskQueued(tx: Db): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${Channels.taskQueued}, '')`);
}
