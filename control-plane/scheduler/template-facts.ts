import { and, eq, sql } from "drizzle-orm";
import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import type { TemplateContext } from "../../workflow/index.js";
import { type Db, tasks } from "../db/index.js";
import type { TaskStateName } from "./states.js";

/** What templates read of one task of the run. */
export interface TaskFacts {
  taskId: string;
  state: TaskStateName;
  output: JsonObject | null;
  exitCode: number | null;
  attemptCount: number;
}

/** What templates read of the run itself. */
export interface RunValues {
  id: string;
  workflowName: string;
  params: JsonObject;
  startedAt: Date | null;
}

/**
 * The values templates and conditions of one task may read. With the
 * task's `spec`, a generated task sees its siblings by their own ids
 * (`tasks.x` for `gen/x`), and a for_each child its `item` and `index`.
 */
export function templateContext(
  run: RunValues,
  taskId: string,
  attempt: number,
  facts: ReadonlyMap<string, TaskFacts>,
  now: Date,
  options: { spec?: JsonObject } = {},
): TemplateContext {
  const spec = options.spec ?? {};
  const prefix = typeof spec.scope === "string" ? `${spec.scope}/` : "";
  const taskValues: TemplateContext["tasks"] = {};
  for (const f of facts.values()) {
    const id =
      prefix !== "" && f.taskId.startsWith(prefix)
        ? f.taskId.slice(prefix.length)
        : f.taskId;
    taskValues[id] = {
      status: f.state,
      output: f.output ?? {},
      attempts: f.attemptCount,
      ...(f.exitCode === null ? {} : { exit_code: f.exitCode }),
    };
  }
  return {
    params: run.params,
    tasks: taskValues,
    run: {
      id: run.id,
      name: run.workflowName,
      started_at: (run.startedAt ?? now).toISOString(),
    },
    task: { id: taskId, attempt },
    ...(typeof spec.index === "number"
      ? { item: (spec.item ?? null) as JsonValue, index: spec.index }
      : {}),
  };
}

/** States and outputs of some tasks of a run, by task id. */
export async function loadFacts(
  tx: Db,
  runId: string,
  taskIds: readonly string[],
): Promise<Map<string, TaskFacts>> {
  if (taskIds.length === 0) return new Map();
  const rows = await tx
    .select({
      taskId: tasks.taskId,
      state: tasks.state,
      output: tasks.output,
      exitCode: tasks.exitCode,
      attemptCount: tasks.attemptCount,
    })
    .from(tasks)
    .where(and(eq(tasks.runId, runId), taskIdIn(taskIds)));
  return new Map(rows.map((r) => [r.taskId, r]));
}

/**
 * `task_id = ANY($1)`: one array parameter, where inArray would build and
 * send one parameter per id (10,000 at the start of a wide run).
 */
export function taskIdIn(taskIds: readonly string[]) {
  return sql`${tasks.taskId} = ANY(${sql.param([...taskIds])}::text[])`;
}
