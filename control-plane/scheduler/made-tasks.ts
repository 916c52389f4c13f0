import { and, eq, sql } from "drizzle-orm";
import { type Db, runs } from "../db/index.js";

/**
 * Most tasks made while a run runs, for_each children and dynamic tasks'
 * output together (runs.made_tasks). Each generator may make 10,000 and
 * each for_each 10,000 children; without a bound on the whole run, a
 * generator that made four of itself grew a run toward millions of tasks
 * that never ended.
 */
export const MAX_MADE_TASKS = 100_000;

/**
 * Counts `count` more tasks made in the run, if they fit under
 * {@link MAX_MADE_TASKS}; otherwise counts nothing and says why. The
 * caller holds the run's lock.
 */
export async function countMadeTasks(
  tx: Db,
  runId: string,
  count: number,
): Promise<string | undefined> {
  const counted = await tx
    .update(runs)
    .set({ madeTasks: sql`${runs.madeTasks} + ${count}` })
    .where(
      and(
        eq(runs.id, runId),
        sql`${runs.madeTasks} + ${count} <= ${MAX_MADE_TASKS}`,
      ),
    )
    .returning({ madeTasks: runs.madeTasks });
  if (counted.length > 0) return undefined;
  return `the run would make more than ${MAX_MADE_TASKS} tasks while it runs (for_each children and generated tasks together)`;
}
