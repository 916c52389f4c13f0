import { and, eq, inArray, sql } from "drizzle-orm";
import type { TaskDefinition } from "../../workflow/index.js";
import { type Db, runs, tasks } from "../db/index.js";
import {
  appendRunEvents,
  type RunEventInput,
} from "../events/append-run-events.js";
import { advanceRun } from "../scheduler/advance-run.js";
import { isTerminalRunState, type TaskStateName } from "../scheduler/states.js";
import { maxAttempts } from "../scheduler/task-row.js";

/** What to retry: one task, or every failed or killed task of the run. */
export type RetryTarget = { taskId: string } | "failed";

export type RetryOutcome =
  | { kind: "retried"; taskIds: string[] }
  | { kind: "not_found" }
  | { kind: "not_retryable"; message: string };

/** A task in these states may be retried by a user. */
const RETRYABLE: ReadonlySet<TaskStateName> = new Set(["FAILED", "KILLED"]);
/** Downstream states that only hold because of an upstream failure. */
const CAUSED: ReadonlySet<TaskStateName> = new Set([
  "UPSTREAM_FAILED",
  "SKIPPED",
]);

interface TaskNode {
  taskId: string;
  state: TaskStateName;
  dependsOn: string[];
  attemptCount: number;
  spec: TaskDefinition;
}

/**
 * Gives failed or killed tasks a fresh set of attempts: they, and the
 * tasks downstream that were skipped or upstream-failed because of them,
 * go back to CREATED; the run is RUNNING again; then the run advances as
 * usual, queueing what is ready. Tasks that succeeded are kept.
 */
export async function retryTasks(
  db: Db,
  runId: string,
  target: RetryTarget,
  now: Date,
): Promise<RetryOutcome> {
  return db.transaction(async (tx) => {
    const [run] = await tx
      .select({ state: runs.state })
      .from(runs)
      .where(eq(runs.id, runId))
      .for("update");
    if (!run) return { kind: "not_found" };
    const nodes = await loadNodes(tx, runId);
    const chosen = chooseTargets(nodes, target, run.state);
    if ("kind" in chosen) return chosen;
    const { retried, reopened } = throughGroups(nodes, chosen);
    const reset = [
      ...retried,
      ...causedDownstream(nodes, [...retried, ...reopened]),
    ];
    await resetTasks(tx, runId, nodes, retried, reset);
    await reopenGroups(tx, runId, nodes, reopened);
    const events: RunEventInput[] = [
      ...reopened.map((taskId) => ({
        runId,
        taskId,
        state: "RUNNING" as const,
      })),
      ...reset.map((taskId) => ({ runId, taskId, state: "CREATED" as const })),
    ];
    if (isTerminalRunState(run.state)) {
      await tx
        .update(runs)
        .set({ state: "RUNNING", error: "", finishedAt: null })
        .where(eq(runs.id, runId));
      events.push({ runId, state: "RUNNING" });
    }
    await appendRunEvents(tx, events);
    await advanceRun(tx, runId, "start", now);
    return { kind: "retried", taskIds: chosen };
  });
}

async function loadNodes(
  tx: Db,
  runId: string,
): Promise<Map<string, TaskNode>> {
  const rows = await tx
    .select({
      taskId: tasks.taskId,
      state: tasks.state,
      dependsOn: tasks.dependsOn,
      attemptCount: tasks.attemptCount,
      spec: tasks.spec,
    })
    .from(tasks)
    .where(eq(tasks.runId, runId))
    .for("update");
  return new Map(
    rows.map((r) => [
      r.taskId,
      { ...r, spec: r.spec as unknown as TaskDefinition },
    ]),
  );
}

function chooseTargets(
  nodes: ReadonlyMap<string, TaskNode>,
  target: RetryTarget,
  runState: string,
): string[] | Exclude<RetryOutcome, { kind: "retried" }> {
  if (target === "failed") {
    if (!isTerminalRunState(runState as never)) {
      return {
        kind: "not_retryable",
        message: `run_id: the run is ${runState}; retry a run once it has finished`,
      };
    }
    const failed = [...nodes.values()].filter((n) => RETRYABLE.has(n.state));
    if (failed.length === 0) {
      return {
        kind: "not_retryable",
        message: "run_id: the run has no failed or killed tasks",
      };
    }
    return failed.map((n) => n.taskId);
  }
  const node = nodes.get(target.taskId);
  if (!node) return { kind: "not_found" };
  if (!RETRYABLE.has(node.state)) {
    return {
      kind: "not_retryable",
      message: `task_id: task ${node.taskId} is ${node.state}; only FAILED or KILLED tasks can be retried`,
    };
  }
  return [node.taskId];
}

/**
 * A group (a for_each or dynamic task with children) is retried through
 * its children: the failed ones are retried and the group reopens
 * (RUNNING again), as do its ended ancestors. A group that never got
 * children (its for_each failed to evaluate) is retried itself.
 */
function throughGroups(
  nodes: ReadonlyMap<string, TaskNode>,
  chosen: readonly string[],
): { retried: string[]; reopened: string[] } {
  const children = new Map<string, string[]>();
  for (const node of nodes.values()) {
    const parent = parentOf(node);
    if (typeof parent !== "string") continue;
    const ids = children.get(parent) ?? [];
    ids.push(node.taskId);
    children.set(parent, ids);
  }
  const retried = new Set<string>();
  const reopened = new Set<string>();
  const visit = (taskId: string) => {
    const kids = children.get(taskId);
    if (kids === undefined || kids.length === 0) {
      retried.add(taskId);
      return;
    }
    reopened.add(taskId);
    for (const kid of kids) {
      const state = nodes.get(kid)?.state;
      if (state !== undefined && RETRYABLE.has(state)) visit(kid);
    }
  };
  for (const taskId of chosen) visit(taskId);
  for (const taskId of [...retried, ...reopened]) {
    let parent = parentOf(nodes.get(taskId));
    while (typeof parent === "string") {
      const node = nodes.get(parent);
      if (node === undefined || node.state === "RUNNING") break;
      reopened.add(parent);
      parent = parentOf(node);
    }
  }
  return { retried: [...retried], reopened: [...reopened] };
}

function parentOf(node: TaskNode | undefined): unknown {
  return (node?.spec as { parent?: unknown } | undefined)?.parent;
}

/** Groups run again: RUNNING, until their children end once more. */
async function reopenGroups(
  tx: Db,
  runId: string,
  nodes: ReadonlyMap<string, TaskNode>,
  reopened: readonly string[],
): Promise<void> {
  for (const taskId of reopened) {
    // A dynamic task keeps its own output (the tasks it generated); a
    // for_each group's output is recomputed from its children.
    const spec = nodes.get(taskId)?.spec as { dynamic?: unknown } | undefined;
    const dynamic = spec?.dynamic;
    await tx
      .update(tasks)
      .set({
        state: "RUNNING",
        error: "",
        finishedAt: null,
        ...(dynamic === true ? {} : { output: null }),
      })
      .where(and(eq(tasks.runId, runId), eq(tasks.taskId, taskId)));
  }
}

/**
 * Tasks downstream of `roots` whose state only their failure caused.
 * Dependents are indexed once: walking every task for each root made a
 * retry of a run with thousands of failed tasks quadratic.
 */
function causedDownstream(
  nodes: ReadonlyMap<string, TaskNode>,
  roots: readonly string[],
): string[] {
  const dependents = new Map<string, TaskNode[]>();
  for (const node of nodes.values()) {
    if (!CAUSED.has(node.state)) continue;
    for (const upstream of node.dependsOn) {
      const list = dependents.get(upstream);
      if (list) list.push(node);
      else dependents.set(upstream, [node]);
    }
  }
  const found = new Set<string>();
  const frontier = [...roots];
  while (frontier.length > 0) {
    const upstream = frontier.pop() as string;
    for (const node of dependents.get(upstream) ?? []) {
      if (found.has(node.taskId)) continue;
      found.add(node.taskId);
      frontier.push(node.taskId);
    }
  }
  return [...found];
}

async function resetTasks(
  tx: Db,
  runId: string,
  nodes: ReadonlyMap<string, TaskNode>,
  retried: readonly string[],
  reset: readonly string[],
): Promise<void> {
  const cleared = {
    state: "CREATED" as const,
    error: "",
    exitCode: null,
    output: null,
    notBefore: null,
    finishedAt: null,
  };
  await tx
    .update(tasks)
    .set(cleared)
    .where(and(eq(tasks.runId, runId), inArray(tasks.taskId, [...reset])));
  // Each retried task gets its policy's number of attempts again, all in
  // one statement (one a task was a round trip each inside the retry's
  // transaction).
  const budgets = retried.flatMap((taskId) => {
    const node = nodes.get(taskId);
    return node
      ? [{ taskId, max: node.attemptCount + maxAttempts(node.spec) }]
      : [];
  });
  if (budgets.length === 0) return;
  await tx.execute(sql`
    UPDATE tasks t SET max_attempts = b.max
    FROM unnest(
      ${sql.param(budgets.map((b) => b.taskId))}::text[],
      ${sql.param(budgets.map((b) => b.max))}::int[]
    ) AS b(task_id, max)
    WHERE t.run_id = ${runId}::uuid AND t.task_id = b.task_id`);
}
