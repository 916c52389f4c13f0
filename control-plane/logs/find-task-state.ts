import { Code, ConnectError } from "@connectrpc/connect";
import { and, eq } from "drizzle-orm";
import { type Db, runs, tasks } from "../db/index.js";
import type { TaskStateName } from "../scheduler/states.js";

/**
 * The state of a task, for readers of its logs and metrics; NotFound
 * names the run when the run is unknown, else the task.
 */
export async function findTaskState(
  db: Db,
  runId: string,
  taskId: string,
): Promise<TaskStateName> {
  const [task] = await db
    .select({ state: tasks.state })
    .from(tasks)
    .where(and(eq(tasks.runId, runId), eq(tasks.taskId, taskId)));
  if (task) return task.state;
  const [run] = await db
    .select({ id: runs.id })
    .from(runs)
    .where(eq(runs.id, runId));
  throw new ConnectError(
    run ? `task ${taskId} of run ${runId} not found` : `run ${runId} not found`,
    Code.NotFound,
  );
}
