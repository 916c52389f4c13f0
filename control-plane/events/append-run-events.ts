import { type SQL, sql } from "drizzle-orm";
import { type Db, MAX_EVENTS_PER_BATCH } from "../db/index.js";
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
 * Appends events to their runs' histories, a batch per run (see
 * run_event_batches in schema.ts), and notifies watchers when the
 * transaction commits.
 */
export async function appendRunEvents(
  tx: Db,
  events: readonly RunEventInput[],
): Promise<void> {
  if (events.length === 0) return;
  const batches = [...batchesOf(events)].map((batch) => {
    // A field that holds one value for every event of the batch (the
    // state, mostly, and the empty attempt, agent and error) is sent once
    // and repeated by PostgreSQL: a run of 10,000 tasks starts with
    // 10,000 QUEUED events.
    const columns = EVENT_FIELDS.map(({ type, read }) => {
      const values = batch.events.map(read);
      const first = values[0];
      return values.every((v) => v === first)
        ? sql`array_fill(${first}::${sql.raw(type)}, ARRAY[${values.length}::int])`
        : sql`${sql.param(values)}::${sql.raw(type)}[]`;
    });
    return sql`(${batch.runId}::uuid, ${sql.join(columns, sql`, `)})`;
  });
  // One round trip: the batches, and one notification per run they touch
  // (PostgreSQL delivers them at commit).
  await tx.execute(sql`
    WITH added AS (
      INSERT INTO run_event_batches (run_id, task_ids, states, attempts,
        agent_ids, errors)
      VALUES ${sql.join(batches, sql`, `)}
      RETURNING run_id
    )
    SELECT pg_notify(${Channels.runEvent}, run_id::text)
    FROM (SELECT DISTINCT run_id FROM added) AS touched`);
}

/** Events grouped by run, in order, at most MAX_EVENTS_PER_BATCH a batch. */
function* batchesOf(
  events: readonly RunEventInput[],
): Generator<{ runId: string; events: RunEventInput[] }> {
  const byRun = new Map<string, RunEventInput[]>();
  for (const event of events) {
    const ofRun = byRun.get(event.runId);
    if (ofRun) ofRun.push(event);
    else byRun.set(event.runId, [event]);
  }
  for (const [runId, ofRun] of byRun) {
    for (let i = 0; i < ofRun.length; i += MAX_EVENTS_PER_BATCH) {
      yield { runId, events: ofRun.slice(i, i + MAX_EVENTS_PER_BATCH) };
    }
  }
}

/** An event's fields as a batch stores them, in its columns' order. */
const EVENT_FIELDS: {
  type: "int" | "text";
  read: (event: RunEventInput) => string | number;
}[] = [
  { type: "text", read: (e) => e.taskId ?? "" },
  { type: "text", read: (e) => e.state },
  { type: "int", read: (e) => e.attempt ?? 0 },
  { type: "text", read: (e) => e.agentId ?? "" },
  { type: "text", read: (e) => e.error ?? "" },
];

/**
 * Two WITH items that append the rows `source` selects (run_id, task_id,
 * state, attempt, agent_id, error, phase) as events, and notify their
 * runs' watchers, for a statement that already changes the rows the
 * events describe: one round trip instead of two. The statement must
 * read `events_notified` (one row), or the notifications are not sent.
 *
 * Each run's events of one `phase` are one batch (of at most
 * MAX_EVENTS_PER_BATCH), in no particular order within it, and phases are
 * numbered in ascending order: a task with two events in one statement
 * (RUNNING, then SUCCESS) gives them phases in that order. Keeping the
 * source's order within a batch instead cost PostgreSQL a sort per
 * column, as much as writing the events as rows had.
 */
export function appendRunEventsFrom(source: SQL): SQL {
  return sql`
    events_added AS (
      INSERT INTO run_event_batches (run_id, task_ids, states, attempts,
        agent_ids, errors)
      SELECT run_id, array_agg(task_id), array_agg(state),
        array_agg(attempt), array_agg(agent_id), array_agg(error)
      FROM (
        SELECT e.run_id::uuid, e.task_id::text, e.state::text,
          e.attempt::int, e.agent_id::text, e.error::text, e.phase::int,
          row_number() OVER () AS n
        FROM (${source}) AS e(run_id, task_id, state, attempt, agent_id,
          error, phase)
      ) AS numbered
      GROUP BY run_id, phase, (n - 1) / ${MAX_EVENTS_PER_BATCH}
      ORDER BY phase
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
