import { type SQL, sql } from "drizzle-orm";

/**
 * Whether the queued `tasks` row at hand may be assigned at `now`,
 * whatever agent it fits: no killed attempt of it may still be running
 * (a retry never runs beside the attempt it replaces), and its run is
 * below its `concurrency`.
 *
 * A claim reads only such tasks: one of a run at its concurrency, locked
 * and dropped, would hide other runs' tasks behind it. And a claim keeps
 * resources only for such a task (waiting-request.ts), as ExplainTask
 * says: held for a task that cannot start, they would sit idle for as
 * long as its run is full.
 */
export function assignableNow(now: Date): SQL {
  return sql`NOT EXISTS (
      SELECT 1 FROM leases l
      WHERE l.run_id = tasks.run_id AND l.task_id = tasks.task_id
        AND l.state = 'REVOKED' AND l.stopped_at IS NULL
        AND l.expires_at > ${now.toISOString()}::timestamptz)
    AND NOT EXISTS (
      SELECT 1 FROM runs r
      WHERE r.id = tasks.run_id AND r.concurrency IS NOT NULL
        AND r.concurrency <= (
          SELECT count(*) FROM leases l
          WHERE l.run_id = r.id AND l.state IN ('GRANTED', 'ACTIVE')))`;
}
