import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { and, asc, eq } from "drizzle-orm";
import {
  type MetricPoint,
  MetricPointSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import { type Db, taskMetrics } from "../db/index.js";

/**
 * Every metric point of a task, of all its attempts, in time order (ties
 * in the order they were stored). The index on (run, task) finds them;
 * PostgreSQL sorts that one task's points.
 *
 * The answer is unbounded: GetTaskMetricsRequest has no limit or cursor.
 * A plugin that records a point per row of a huge job would make a big
 * answer; paging would take a limit and a cursor (time, id) in the proto.
 */
export async function readTaskMetrics(
  db: Db,
  runId: string,
  taskId: string,
): Promise<MetricPoint[]> {
  const rows = await db
    .select()
    .from(taskMetrics)
    .where(and(eq(taskMetrics.runId, runId), eq(taskMetrics.taskId, taskId)))
    .orderBy(asc(taskMetrics.time), asc(taskMetrics.id));
  return rows.map((row) =>
    create(MetricPointSchema, {
      attempt: row.attempt,
      name: row.name,
      kind: row.kind,
      value: row.value,
      labels: row.labels,
      time: timestampFromDate(row.time),
    }),
  );
}
