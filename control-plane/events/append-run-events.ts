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
  // (PostgreSQL delivers them at commit). A column that holds one value
  // for every event (the run, mostly, and the empty attempt, agent and
  // error) is sent once rather than as an array: a run of 10,000 tasks
  // starts with 10,000 QUEUED events of one run.
  const selected: SQL[] = [];
  const unnested: { name: string; array: SQL }[] = [];
  for (const { name, type, read, varies } of EVENT_COLUMNS) {
    const values = events.map(read);
    const first = values[0];
    if (!varies && values.every((v) => v === first)) {
      selected.push(sql`${first}::${sql.raw(type)}`);
    } else {
      selected.push(sql.raw(`e.${name}`));
      unnested.push({
        name,
        array: sql`${sql.param(values)}::${sql.raw(type)}[]`,
      });
    }
  }
  await tx.execute(sql`
    WITH added AS (
      INSERT INTO run_events (${sql.raw(EVENT_COLUMNS.map((c) => c.name).join(", "))})
      SELECT ${sql.join(selected, sql`, `)}
      FROM unnest(${sql.join(
        unnested.map((c) => c.array),
        sql`, `,
      )}) AS e(${sql.raw(unnested.map((c) => c.name).join(", "))})
      RETURNING run_id
    )
    SELECT pg_notify(${Channels.runEvent}, run_id::text)
    FROM (SELECT DISTINCT run_id FROM added) AS touched`);
}

/**
 * The columns appendRunEvents writes, in order. Those that `vary` are
 * always sent as arrays, so unnest has at least one.
 */
const EVENT_COLUMNS: {
  name: string;
  type: "uuid" | "int" | "text";
  read: (event: RunEventInput) => string | number;
  varies: boolean;
}[] = [
  { name: "run_id", type: "uuid", read: (e) => e.runId, varies: false },
  { name: "task_id", type: "text", read: (e) => e.taskId ?? "", varies: true },
  { name: "state", type: "text", read: (e) => e.state, varies: false },
  { name: "attempt", type: "int", read: (e) => e.attempt ?? 0, varies: false },
  {
    name: "agent_id",
    type: "text",
    read: (e) => e.agentId ?? "",
    varies: false,
  },
  { name: "error", type: "text", read: (e) => e.error ?? "", varies: false },
];

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
