import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { and, eq } from "drizzle-orm";
import {
  type FollowTaskLogsResponse,
  FollowTaskLogsResponseSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import { attempts, type Db } from "../db/index.js";
import type { RunEventHub } from "../events/run-event-hub.js";
import { isTerminalTaskState } from "../scheduler/states.js";
import { findTaskState } from "./find-task-state.js";
import {
  MAX_LOG_LIMIT,
  readTaskLogs,
  type TaskLogRequest,
  taskLogQuery,
} from "./read-task-logs.js";

export interface FollowTaskLogsDeps {
  db: Db;
  /** Wakes on the run's events and on its stored log lines. */
  hub: RunEventHub;
}

/**
 * Streams a task's stored lines, then new ones as they are stored, until
 * the task ends (or, for one attempt, until that attempt ends). Stored
 * lines and task states are the truth; the hub only says when to look
 * again, so a lost notification costs latency, not lines.
 */
export async function* followTaskLogs(
  deps: FollowTaskLogsDeps,
  req: TaskLogRequest,
  signal: AbortSignal,
): AsyncIterable<FollowTaskLogsResponse> {
  const query = taskLogQuery({ ...req, limit: MAX_LOG_LIMIT });
  const { runId, taskId } = query;
  const subscription = deps.hub.subscribe(runId);
  try {
    let after = query.after;
    while (!signal.aborted) {
      // Whether it ended is read before the lines: every line stored
      // before the end is then in this read or an earlier one.
      const ended = await hasEnded(deps.db, runId, taskId, query.attempt);
      const lines = await readTaskLogs(deps.db, { ...query, after });
      const last = lines.at(-1);
      if (last) {
        yield create(FollowTaskLogsResponseSchema, { lines });
        after = { attempt: last.attempt, sequence: Number(last.sequence) };
      }
      if (lines.length === query.limit) continue;
      if (ended) return;
      await subscription.changed(signal);
    }
    // Cut short by its deadline, a shutdown or the caller leaving.
    throw ConnectError.from(signal.reason, Code.Unavailable);
  } finally {
    subscription.close();
  }
}

/**
 * Whether no more lines can come: the task is in a final state, or the
 * attempt followed has its outcome. NotFound for an unknown run or task.
 */
async function hasEnded(
  db: Db,
  runId: string,
  taskId: string,
  attempt: number | undefined,
): Promise<boolean> {
  const state = await findTaskState(db, runId, taskId);
  if (isTerminalTaskState(state)) return true;
  if (attempt === undefined) return false;
  const [row] = await db
    .select({ outcome: attempts.outcome })
    .from(attempts)
    .where(
      and(
        eq(attempts.runId, runId),
        eq(attempts.taskId, taskId),
        eq(attempts.number, attempt),
      ),
    );
  return row?.outcome != null;
}
