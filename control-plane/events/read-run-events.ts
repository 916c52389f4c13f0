import { and, asc, eq, gt, gte, lte } from "drizzle-orm";
import {
  type Db,
  EVENT_NUMBERS_PER_BATCH,
  runEventBatches,
  runEvents,
} from "../db/index.js";

/** How many batches a page reads at most, by default. */
export const BATCHES_PER_PAGE = 50;

/** One event of a run's history, as the view run_events shows it. */
export type RunEventRow = typeof runEvents.$inferSelect;

/**
 * A page of a run's events numbered after `after` and up to `upTo`, in
 * order: those of the next `batches` batches in range. The batches are
 * read by key, in order, and unpacked here. Through the view, ordered by
 * the event's number, PostgreSQL unpacked every batch in range for every
 * page (a page of a run with 784,000 events took 515 ms) unless its
 * statistics happened to favour the key's order.
 */
export async function eventPage(
  db: Db,
  runId: string,
  after: number,
  upTo: number,
  batches = BATCHES_PER_PAGE,
): Promise<RunEventRow[]> {
  const rows = await db
    .select()
    .from(runEventBatches)
    .where(
      and(
        eq(runEventBatches.runId, runId),
        gte(runEventBatches.sequence, batchOf(after)),
        lte(runEventBatches.sequence, batchOf(upTo)),
      ),
    )
    .orderBy(asc(runEventBatches.sequence))
    .limit(batches);
  const events: RunEventRow[] = [];
  for (const row of rows) {
    row.taskIds.forEach((taskId, place) => {
      const sequence = row.sequence * EVENT_NUMBERS_PER_BATCH + place;
      if (sequence <= after || sequence > upTo) return;
      events.push({
        batch: row.sequence,
        sequence,
        runId: row.runId,
        time: row.time,
        taskId,
        state: row.states[place] ?? "",
        attempt: row.attempts[place] ?? 0,
        agentId: row.agentIds[place] ?? "",
        error: row.errors[place] ?? "",
      });
    });
  }
  return events;
}

/**
 * Whether a run's own state changed after event `sequence`: a retried
 * run has FAILED in its history and goes on after it.
 */
export async function runChangedAfter(
  db: Db,
  runId: string,
  sequence: number,
): Promise<boolean> {
  const [later] = await db
    .select({ sequence: runEvents.sequence })
    .from(runEvents)
    .where(
      and(
        eq(runEvents.runId, runId),
        gte(runEvents.batch, batchOf(sequence)),
        eq(runEvents.taskId, ""),
        gt(runEvents.sequence, sequence),
      ),
    )
    .limit(1);
  return later !== undefined;
}

/** The batch an event's number falls in (see runEventBatches). */
function batchOf(sequence: number): number {
  return Math.floor(sequence / EVENT_NUMBERS_PER_BATCH);
}
