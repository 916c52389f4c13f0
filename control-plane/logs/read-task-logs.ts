import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { type LogLine, LogLineSchema } from "../../gen/deerflow/v1/run_pb.js";
import { invalidArgument, requireUuid } from "../api/connect-errors.js";
import { type Db, taskLogs } from "../db/index.js";

/** Lines a GetTaskLogs answer carries when the request names no limit. */
export const DEFAULT_LOG_LIMIT = 500;
/** The most lines one answer carries, whatever the request asks. */
export const MAX_LOG_LIMIT = 5000;

/**
 * Where a read of a task's log starts: after `sequence` of `attempt`.
 * Lines are ordered by attempt, then sequence, so the next line after
 * the cursor may be the first of a later attempt.
 */
export interface TaskLogCursor {
  attempt: number;
  sequence: number;
}

/** A checked request for a task's log lines. */
export interface TaskLogQuery {
  runId: string;
  taskId: string;
  /** One attempt's lines, or every attempt's when undefined. */
  attempt: number | undefined;
  after: TaskLogCursor;
  limit: number;
}

/** The fields GetTaskLogs and FollowTaskLogs requests share. */
export interface TaskLogRequest {
  runId: string;
  taskId: string;
  attempt: number;
  afterSequence: bigint;
}

/**
 * Checks a request's fields; InvalidArgument names the one at fault.
 * Sequences restart with every attempt, so `after_sequence` only means
 * something together with an attempt: with attempt 0 (every attempt) it
 * must be 0. A reader paging through every attempt continues from its
 * last line by asking for that line's attempt and sequence, then for the
 * attempts after it.
 */
export function taskLogQuery(
  req: TaskLogRequest & { limit?: number },
): TaskLogQuery {
  const runId = requireUuid("run_id", req.runId);
  if (req.taskId === "") throw invalidArgument("task_id", "is required");
  if (req.attempt < 0) {
    throw invalidArgument("attempt", "must not be negative");
  }
  if (req.afterSequence < 0n) {
    throw invalidArgument("after_sequence", "must not be negative");
  }
  if (req.attempt === 0 && req.afterSequence > 0n) {
    throw invalidArgument(
      "after_sequence",
      "needs an attempt: sequences restart with every attempt",
    );
  }
  const limit = req.limit ?? 0;
  if (limit < 0) throw invalidArgument("limit", "must not be negative");
  return {
    runId,
    taskId: req.taskId,
    attempt: req.attempt === 0 ? undefined : req.attempt,
    after: { attempt: req.attempt, sequence: Number(req.afterSequence) },
    limit: Math.min(limit || DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT),
  };
}

/**
 * A task's log lines after the query's cursor, ordered by attempt then
 * sequence, at most `limit` of them. The conditions and the order follow
 * the primary key (run, task, attempt, sequence), so PostgreSQL reads
 * the lines from that index in order and stops at the limit.
 */
export async function readTaskLogs(
  db: Db,
  query: TaskLogQuery,
): Promise<LogLine[]> {
  const { runId, taskId, after } = query;
  const rows = await db
    .select()
    .from(taskLogs)
    .where(
      and(
        eq(taskLogs.runId, runId),
        eq(taskLogs.taskId, taskId),
        query.attempt === undefined
          ? sql`(${taskLogs.attempt}, ${taskLogs.sequence}) > (${after.attempt}, ${after.sequence})`
          : and(
              eq(taskLogs.attempt, query.attempt),
              gt(taskLogs.sequence, after.sequence),
            ),
      ),
    )
    .orderBy(asc(taskLogs.attempt), asc(taskLogs.sequence))
    .limit(query.limit);
  return rows.map((row) =>
    create(LogLineSchema, {
      attempt: row.attempt,
      sequence: BigInt(row.sequence),
      time: timestampFromDate(row.time),
      stream: row.stream,
      level: row.level,
      message: row.message,
      fields: row.fields ?? undefined,
    }),
  );
}
