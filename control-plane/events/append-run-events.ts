import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { Channels } from "../notify/channels.js";
import type { Pipelined } from "../scheduler/pipelined.js";

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
  // One round trip: the rows, and one notification per run they touch
  // (PostgreSQL delivers them at commit).
  await tx.execute(sql`
    WITH added AS (
      INSERT INTO run_events (run_id, task_id, state, attempt, agent_id, error)
      SELECT * FROM unnest(
        ${sql.param(events.map((e) => e.runId))}::uuid[],
        ${sql.param(events.map((e) => e.taskId ?? ""))}::text[],
        ${sql.param(events.map((e) => e.state))}::text[],
        ${sql.param(events.map((e) => e.attempt ?? 0))}::int[],
        ${sql.param(events.map((e) => e.agentId ?? ""))}::text[],
        ${sql.param(events.map((e) => e.error ?? ""))}::text[])
      RETURNING run_id
    )
    SELECT pg_notify(${Channels.runEvent}, run_id::text)
    FROM (SELECT DISTINCT run_id FROM added) AS touched`);
}

/**
 * Two WITH items that append the rows `source` selects (run_id, task_id,
 * state, attempt, agent_id, error) as events and notify their runs'
 * watchers, for a statement that already changes the rows the events
 * describe: one round trip instead of two. The statement must read
 * `events_notified` (one row), or the notifications are not sent.
 */
export function appendRunEventsFrom(source: SQL): SQL {
  return sql`
    events_added AS (
      INSERT INTO run_events (run_id, task_id, state, attempt, agent_id, error)
      ${source}
      RETURNING run_id
    ),
    events_notified AS (
      SELECT count(pg_notify(${Channels.runEvent}, run_id::text)) AS notified
      FROM (SELECT DISTINCT run_id FROM events_added) AS touched
    )`;
}

/** Wakes every replica's dispatcher when the transaction commits. */
export async function notifyTaskQueued(tx: Db): Promise<void> {
  const held = heldBack.get(tx);
  if (held !== undefined) {
    held.due = true;
    return;
  }
  await tx.execute(sql`SELECT pg_notify(${Channels.taskQueued}, '')`);
}

/** Transactions whose taskQueued notification waits for a release. */
const heldBack = new WeakMap<Db, { due: boolean }>();

/** A transaction's taskQueued notification, held back (holdTaskQueued). */
export interface HeldTaskQueued {
  /** Whether the transaction has asked to notify: it queued tasks. */
  readonly asked: boolean;
  /**
   * Stops holding, and sends the notification on `writes` if one was
   * asked for. After a claim that may have taken the tasks queued
   * (`claimed`), only if tasks are still queued once the claim ran: the
   * statement decides, so nothing waits for the claim's answer.
   */
  release(writes: Pipelined, claimed: boolean): void;
}

/**
 * Holds back the taskQueued notification of `tx` until released: a
 * transaction that also claims the tasks it queued (an agent's results
 * and its next tasks) wakes every dispatcher only when some are left.
 */
export function holdTaskQueued(tx: Db): HeldTaskQueued {
  const held = { due: false };
  heldBack.set(tx, held);
  return {
    get asked() {
      return held.due;
    },
    release(writes, claimed) {
      heldBack.delete(tx);
      if (!held.due) return;
      writes.send(
        claimed
          ? tx.execute(sql`
              SELECT pg_notify(${Channels.taskQueued}, '')
              WHERE EXISTS (SELECT 1 FROM tasks WHERE state = 'QUEUED')`)
          : tx.execute(sql`SELECT pg_notify(${Channels.taskQueued}, '')`),
      );
    },
  };
}
