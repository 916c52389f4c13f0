/**
 * Tasks that stand for a group of others (SPEC §3): a `for_each` task
 * expands into one child per item, a `dynamic` task splices in the tasks
 * its output defines. While its children run, the group task is RUNNING
 * with no attempt of its own; it ends when they all have, so the tasks
 * that depend on it wait for every child.
 *
 * Children carry their group in their spec: `parent` (the group's task
 * id), and for for_each children `item` and `index`. Generated tasks
 * carry `scope` (the generator's id), under which their ids and their
 * templates' `tasks.<id>` are read.
 */

import { and, eq, inArray, sql } from "drizzle-orm";
import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import {
  evaluateExpression,
  MAX_FOR_EACH_ITEMS,
  parseTemplate,
  type TaskDefinition,
  type TaskTypeCatalog,
  type TemplateContext,
  validateDefinition,
} from "../../workflow/index.js";
import { type Db, rowsOf, runs, tasks } from "../db/index.js";
import type { RunEventInput } from "../events/append-run-events.js";
import { compareTaskIds } from "../runs/run-view.js";
import { countMadeTasks } from "./made-tasks.js";
import { nameTasks } from "./name-tasks.js";
import type { TaskStateName } from "./states.js";
import {
  insertTasks,
  queuedAtStart,
  type TaskRow,
  taskRow,
} from "./task-row.js";

/** Most tasks one dynamic task may splice into its run. */
export const MAX_GENERATED_TASKS = 10_000;

/**
 * How deep dynamic tasks may nest: a generated task may be dynamic in
 * turn, and each level adds `generator/` to its tasks' ids. Without a
 * bound a generator that makes itself again nests for ever, every level
 * a longer id in every view of the run, and the run never ends.
 */
export const MAX_DYNAMIC_DEPTH = 16;

/** A child's spec: its task definition and where it belongs. */
export type ChildSpec = TaskDefinition & {
  parent: string;
  scope?: string;
  item?: JsonValue;
  index?: number;
};

/** The id a task's templates call `id` by, in the run's table. */
export function scopedTaskId(spec: JsonObject, id: string): string {
  return typeof spec.scope === "string" ? `${spec.scope}/${id}` : id;
}

/**
 * The items of a for_each: its list as written, or the list its one
 * `${expr}` gives. Throws an Error naming `for_each` otherwise, or when
 * there are more than {@link MAX_FOR_EACH_ITEMS}.
 */
export function forEachItems(
  forEach: JsonValue,
  context: TemplateContext,
): JsonValue[] {
  let items: JsonValue = forEach;
  if (typeof forEach === "string") {
    const [only, ...rest] = parseTemplate(forEach);
    if (only?.kind !== "expression" || rest.length > 0) {
      throw new Error('for_each: must be exactly one "${...}" expression');
    }
    items = evaluateExpression(only.source, context, "for_each");
  }
  if (!Array.isArray(items)) {
    const kind = items === null ? "null" : typeof items;
    throw new Error(`for_each: must give a list, not ${kind}`);
  }
  if (items.length > MAX_FOR_EACH_ITEMS) {
    throw new Error(
      `for_each: ${items.length} items exceed the limit of ${MAX_FOR_EACH_ITEMS}`,
    );
  }
  return items;
}

/** The children of a for_each task, one per item, ready to queue. */
export function forEachChildren(
  parent: JsonObject,
  items: readonly JsonValue[],
): ChildSpec[] {
  const { for_each: _, condition: __, ...rest } = parent;
  const base = rest as unknown as TaskDefinition;
  return items.map((item, index) => ({
    ...base,
    id: `${base.id}[${index}]`,
    parent: base.id,
    item,
    index,
  }));
}

/**
 * Validates the tasks a dynamic task output, exactly as a submitted
 * definition's (every problem, naming task and field), and returns them
 * renamed under the generator: ids `gen/x`, `depends_on` likewise. Their
 * templates keep reading `tasks.x`, resolved under the scope.
 */
export function generatedTasks(
  generator: JsonObject,
  output: JsonObject | undefined,
  declaredParams: JsonObject,
  catalog: TaskTypeCatalog,
): { tasks: ChildSpec[] } | { error: string } {
  const id = String(generator.id);
  const list = generatedList(output);
  if (!Array.isArray(list)) {
    return {
      error: `dynamic: the output must be { "tasks": [...] }, but output.tasks is ${list === undefined ? "missing" : typeof list}`,
    };
  }
  // Nothing to generate is an answer: the generator simply succeeds.
  if (list.length === 0) return { tasks: [] };
  // The generator's own depth: one more than its dynamic ancestors.
  const depth = id.split("/").length;
  if (depth >= MAX_DYNAMIC_DEPTH) {
    return {
      error: `dynamic: generated tasks may nest ${MAX_DYNAMIC_DEPTH} deep at most; these would be ${depth + 1} deep`,
    };
  }
  if (list.length > MAX_GENERATED_TASKS) {
    return {
      error: `dynamic: ${list.length} generated tasks exceed the limit of ${MAX_GENERATED_TASKS}`,
    };
  }
  const checked = validateDefinition(
    { name: "generated", params: declaredParams, tasks: list },
    { taskTypes: catalog },
  );
  if (checked.definition === undefined) {
    const problems = checked.problems.map((p) => {
      const where = p.taskId ? `output.tasks ${p.taskId}` : "output";
      return `${where}: ${p.field}: ${p.message}`;
    });
    return { error: `dynamic: ${problems.join("; ")}` };
  }
  // The generator's id is its full id in the run, so nested generators
  // scope their tasks under the whole path.
  return {
    tasks: checked.definition.tasks.map((task) => ({
      ...task,
      id: `${id}/${task.id}`,
      depends_on: task.depends_on.map((dep) => `${id}/${dep}`),
      parent: id,
      scope: id,
    })),
  };
}

/**
 * The generated task list: `output.tasks`, or for a type that wraps its
 * value (python's `{ result }`), `output.result.tasks`.
 */
function generatedList(output: JsonObject | undefined): unknown {
  if (output?.tasks !== undefined) return output.tasks;
  const result = output?.result;
  if (result !== null && typeof result === "object" && !Array.isArray(result)) {
    return (result as JsonObject).tasks;
  }
  return undefined;
}

/**
 * Whether a task id is a group's child: only a child's id holds "["
 * (for_each) or "/" (dynamic); submitted ids cannot. Most results end no
 * child, and then finishGroups costs no query.
 */
export function isGroupChild(taskId: string): boolean {
  return taskId.includes("[") || taskId.includes("/");
}

/** Whether any of `changed` is a group's child (see finishGroups). */
export function endsGroupChild(changed: readonly string[]): boolean {
  return changed.some(isGroupChild);
}

/**
 * Ends every group whose children are all done, after `changed` tasks
 * ended: SUCCESS when each child succeeded or was skipped, else FAILED
 * naming the children that did not. A for_each group's output is
 * `{ outputs: [...] }`, its children's outputs by index; a dynamic
 * group keeps its own. Returns the groups that ended.
 */
export async function finishGroups(
  tx: Db,
  runId: string,
  changed: readonly string[],
  now: Date,
  events: RunEventInput[],
): Promise<string[]> {
  const children = changed.filter(isGroupChild);
  if (children.length === 0) return [];
  const parents = rowsOf<{ parent: string }>(
    await tx.execute(sql`
      SELECT DISTINCT spec->>'parent' AS parent FROM tasks
      WHERE run_id = ${runId}
        AND task_id = ANY(${sql.param(children)}::text[])
        AND spec ? 'parent'`),
  );
  const finished: string[] = [];
  for (const { parent } of parents) {
    const [group] = await tx
      .select({ state: tasks.state, spec: tasks.spec, output: tasks.output })
      .from(tasks)
      .where(and(eq(tasks.runId, runId), eq(tasks.taskId, parent)))
      .for("update");
    if (group?.state !== "RUNNING") continue;
    // Most ends leave siblings running: a lookup says so (in the words of
    // the tasks_open_children index) before all children are read.
    const [left] = rowsOf<{ open: boolean }>(
      await tx.execute(sql`
        SELECT EXISTS (
          SELECT 1 FROM tasks
          WHERE run_id = ${runId} AND (spec->>'parent') = ${parent}
            AND spec ? 'parent'
            AND state NOT IN
              ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')
        ) AS open`),
    );
    if (left?.open) continue;
    const children = rowsOf<{
      task_id: string;
      state: TaskStateName;
      output: JsonObject | null;
      index: number | null;
    }>(
      await tx.execute(sql`
        SELECT task_id, state, output, (spec->>'index')::int AS index
        FROM tasks
        WHERE run_id = ${runId} AND spec->>'parent' = ${parent}`),
    );
    const failed = children
      .filter((c) => c.state !== "SUCCESS" && c.state !== "SKIPPED")
      .map((c) => c.task_id)
      .sort(compareTaskIds);
    const state: TaskStateName = failed.length > 0 ? "FAILED" : "SUCCESS";
    const error =
      failed.length > 0 ? `children did not succeed: ${nameTasks(failed)}` : "";
    const output =
      group.spec.for_each === undefined
        ? (group.output ?? {})
        : {
            outputs: children
              .filter((c) => c.index !== null)
              .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
              .map((c) => c.output ?? {}),
          };
    await tx
      .update(tasks)
      .set({ state, error, output, finishedAt: now })
      .where(and(eq(tasks.runId, runId), eq(tasks.taskId, parent)));
    events.push({ runId, taskId: parent, state, error });
    finished.push(parent);
  }
  return finished;
}

/**
 * Splices a dynamic task's generated tasks into its run after its attempt
 * succeeded: validated, stored under its id, those ready at once (no
 * upstream, condition or for_each: {@link queuedAtStart}) queued.
 * `toDecide` counts those without upstream left for the advance to
 * decide, as at a run's start. Returns the error that fails the generator
 * instead, when its output does not define valid tasks.
 */
export async function spliceGenerated(
  tx: Db,
  runId: string,
  generator: JsonObject,
  output: JsonObject | undefined,
  catalog: TaskTypeCatalog,
  now: Date,
): Promise<
  { queued: string[]; stored: number; toDecide: number } | { error: string }
> {
  const [run] = await tx
    .select({ params: runs.params })
    .from(runs)
    .where(eq(runs.id, runId));
  const generated = generatedTasks(
    generator,
    output,
    run?.params ?? {},
    catalog,
  );
  if ("error" in generated) return generated;
  if (generated.tasks.length === 0) {
    return { queued: [], stored: 0, toDecide: 0 };
  }
  const [parent] = await tx
    .select({
      position: tasks.position,
      generatedOrder: tasks.generatedOrder,
    })
    .from(tasks)
    .where(and(eq(tasks.runId, runId), eq(tasks.taskId, String(generator.id))));
  const taken = await tx
    .select({ taskId: tasks.taskId })
    .from(tasks)
    .where(
      and(
        eq(tasks.runId, runId),
        inArray(
          tasks.taskId,
          generated.tasks.map((t) => t.id),
        ),
      ),
    );
  if (taken.length > 0) {
    return {
      error: `dynamic: the run already has tasks ${taken.map((t) => t.taskId).join(", ")}`,
    };
  }
  const tooMany = await countMadeTasks(tx, runId, generated.tasks.length);
  if (tooMany !== undefined) return { error: `dynamic: ${tooMany}` };
  // Listed after the generator, in the order it made them.
  const rows = generated.tasks.map(
    (task, i): TaskRow =>
      taskRow(
        runId,
        task,
        {
          position: parent?.position ?? 0,
          generatedOrder: [...(parent?.generatedOrder ?? []), i],
        },
        now,
        queuedAtStart(task),
      ),
  );
  await insertTasks(tx, rows);
  return {
    queued: rows.filter((r) => r.state === "QUEUED").map((r) => r.taskId),
    stored: rows.length,
    toDecide: generated.tasks.filter(
      (t) => t.depends_on.length === 0 && !queuedAtStart(t),
    ).length,
  };
}

/** Marks a for_each task RUNNING and queues its children. */
export async function insertChildren(
  tx: Db,
  runId: string,
  parentId: string,
  children: readonly ChildSpec[],
  now: Date,
): Promise<void> {
  const [parent] = await tx
    .update(tasks)
    .set({ state: "RUNNING", startedAt: now })
    .where(and(eq(tasks.runId, runId), eq(tasks.taskId, parentId)))
    .returning({
      position: tasks.position,
      generatedOrder: tasks.generatedOrder,
    });
  const place = {
    position: parent?.position ?? 0,
    generatedOrder: parent?.generatedOrder ?? [],
  };
  await insertTasks(
    tx,
    children.map((child) => taskRow(runId, child, place, now, true)),
  );
}
