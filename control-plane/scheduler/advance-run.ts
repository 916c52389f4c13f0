import { and, eq, sql } from "drizzle-orm";
import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import { evaluateCondition, referencedTasks } from "../../workflow/index.js";
import { type Db, rowsOf, runs, tasks } from "../db/index.js";
import {
  appendRunEvents,
  notifyTaskQueued,
  type RunEventInput,
} from "../events/append-run-events.js";
import { inDefinitionOrder } from "../runs/run-view.js";
import {
  type Candidate,
  type FrontierRead,
  loadCandidates,
} from "./frontier-read.js";
import { countMadeTasks } from "./made-tasks.js";
import { nameTasks } from "./name-tasks.js";
import { Pipelined } from "./pipelined.js";
import {
  isTerminalTaskState,
  type RunStateName,
  type TaskStateName,
} from "./states.js";
import {
  type ChildSpec,
  endsGroupChild,
  finishGroups,
  forEachChildren,
  forEachItems,
  insertChildren,
  scopedTaskId,
} from "./task-groups.js";
import {
  loadFacts,
  type TaskFacts,
  taskIdIn,
  templateContext,
} from "./template-facts.js";
import { evaluateTriggerRule, type TriggerRule } from "./trigger-rule.js";

/** What changed while a run advanced. */
export interface AdvanceOutcome {
  /** Tasks that became QUEUED. */
  queued: number;
  /** The run's state when it ended in this step. */
  finished?: RunStateName;
}

export interface AdvanceOptions {
  /** Tasks the caller stored QUEUED already (a run's start). */
  queued?: number;
  /**
   * Where the advance sends its writes. The caller then collects their
   * answers (Pipelined.around), and may send more statements first, in
   * the same round trip; without it, the advance waits for them.
   */
  writes?: Pipelined;
}

interface LockedRun {
  id: string;
  state: RunStateName;
  workflowName: string;
  params: JsonObject;
  startedAt: Date | null;
  concurrency: number | null;
}

/**
 * Moves a run forward after tasks ended (or at its start): CREATED tasks
 * whose trigger rule is met become QUEUED (or SKIPPED when their
 * condition is false), those whose rule can no longer be met become
 * UPSTREAM_FAILED or SKIPPED, and the run ends when every task has.
 *
 * Runs inside the caller's transaction and locks the run row first, so
 * two results of one run advance it one after the other and a join task
 * always sees both of its upstream states.
 */
export async function advanceRun(
  tx: Db,
  runId: string,
  changed: readonly string[] | "start",
  now: Date,
  options: AdvanceOptions = {},
): Promise<AdvanceOutcome> {
  // The run's lock and, when no group child ended (finishGroups would
  // read first), the first candidates: one round trip, in this order.
  const firstFrontier =
    changed === "start" || !endsGroupChild(changed) ? changed : undefined;
  const [run, firstCandidates] = await Promise.all([
    lockRun(tx, runId),
    firstFrontier === undefined
      ? undefined
      : loadCandidates(tx, runId, firstFrontier),
  ]);
  if (!run || run.state === "CANCELLED") return { queued: 0 };
  const events: RunEventInput[] = [];
  // Writes go out without waiting for their answers: statements of one
  // transaction run in the order they are sent, so a later read sees
  // them. The last round trip collects their answers, or the caller's.
  const writes = options.writes ?? new Pipelined();
  const advance = async () => {
    // Tasks the caller queued already (a run's start stores its ready tasks
    // QUEUED), counted so the run becomes RUNNING and dispatchers wake.
    let queued = options.queued ?? 0;
    let frontier: readonly string[] | "start" = changed;
    let prefetched = firstCandidates;
    while (frontier === "start" || frontier.length > 0) {
      let frontierRead: FrontierRead;
      let groupsDone: string[] = [];
      if (prefetched !== undefined) {
        frontierRead = prefetched;
        prefetched = undefined;
      } else {
        // Groups whose last child just ended end too, and count as changed.
        groupsDone =
          frontier === "start"
            ? []
            : await finishGroups(tx, runId, frontier, now, events);
        frontierRead = await loadCandidates(
          tx,
          runId,
          frontier === "start" ? frontier : [...frontier, ...groupsDone],
        );
      }
      const moves = await decide(tx, run, frontierRead, now);
      await applyMoves(tx, runId, moves, now, writes);
      for (const [taskId, move] of moves) {
        events.push({ runId, taskId, state: move.state, error: move.error });
        for (const child of move.children ?? []) {
          events.push({ runId, taskId: child.id, state: "QUEUED" });
        }
      }
      for (const move of moves.values()) {
        if (move.state === "QUEUED") queued += 1;
        queued += move.children?.length ?? 0;
      }
      frontier = [
        ...[...moves]
          .filter(([, m]) => isTerminalTaskState(m.state))
          .map(([id]) => id),
        ...groupsDone,
      ];
    }
    const outcome: AdvanceOutcome = { queued };
    if (queued > 0 && run.state === "PENDING") {
      writes.send(
        tx
          .update(runs)
          .set({ state: "RUNNING", startedAt: now })
          .where(eq(runs.id, runId)),
      );
      events.push({ runId, state: "RUNNING" });
    }
    // A task queued here is open, so the run goes on: no need to ask.
    const finished =
      queued > 0 ? undefined : await finishIfDone(tx, runId, now);
    if (finished) {
      events.push({ runId, state: finished.state, error: finished.error });
      outcome.finished = finished.state;
    }
    // A run at its concurrency holds queued tasks back from claims: a task
    // of it that ended made room for one, as good as a newly queued task.
    const madeRoom = run.concurrency !== null && changed !== "start";
    writes.send(appendRunEvents(tx, events));
    if (queued > 0 || madeRoom) writes.send(notifyTaskQueued(tx));
    return outcome;
  };
  return options.writes ? advance() : writes.around(advance);
}

async function lockRun(tx: Db, runId: string): Promise<LockedRun | undefined> {
  const [run] = await tx
    .select({
      id: runs.id,
      state: runs.state,
      workflowName: runs.workflowName,
      params: runs.params,
      startedAt: runs.startedAt,
      concurrency: runs.concurrency,
    })
    .from(runs)
    .where(eq(runs.id, runId))
    .for("update");
  return run;
}

interface Move {
  state: TaskStateName;
  error?: string;
  /** A for_each task's children, queued as it becomes RUNNING. */
  children?: ChildSpec[];
  /** Set with the state (an empty for_each's `{ outputs: [] }`). */
  output?: JsonObject;
}

/** Decides what each candidate becomes; candidates that wait are left. */
async function decide(
  tx: Db,
  run: LockedRun,
  { candidates, facts }: FrontierRead,
  now: Date,
): Promise<Map<string, Move>> {
  const moves = new Map<string, Move>();
  if (candidates.length === 0) return moves;
  // Conditions and for_each may read tasks beyond those depended on.
  const missing = new Set<string>();
  for (const c of candidates) {
    for (const expr of [c.spec.condition, c.spec.for_each]) {
      if (typeof expr !== "string") continue;
      for (const id of referencedTasks(expr)) {
        const scoped = scopedTaskId(c.spec, id);
        if (!facts.has(scoped)) missing.add(scoped);
      }
    }
  }
  for (const [id, fact] of await loadFacts(tx, run.id, [...missing])) {
    facts.set(id, fact);
  }
  for (const c of candidates) {
    const upstream = c.dependsOn.map((id) => facts.get(id)?.state ?? "CREATED");
    const rule = (c.spec.trigger_rule as TriggerRule) ?? "all_success";
    const verdict = evaluateTriggerRule(rule, upstream);
    if (verdict === "upstream_failed") {
      moves.set(c.taskId, { state: "UPSTREAM_FAILED" });
    } else if (verdict === "skipped") {
      moves.set(c.taskId, { state: "SKIPPED" });
    } else if (verdict === "ready") {
      const move = checkCondition(c, run, facts, now);
      const forEach = c.spec.for_each;
      moves.set(
        c.taskId,
        move.state === "QUEUED" && forEach !== undefined
          ? expand(c, forEach, run, facts, now)
          : move,
      );
    }
  }
  return moves;
}

/** A for_each task whose upstream is done: its children, or why not. */
function expand(
  candidate: Candidate,
  forEach: JsonValue,
  run: LockedRun,
  facts: ReadonlyMap<string, TaskFacts>,
  now: Date,
): Move {
  let items: JsonValue[];
  try {
    const context = templateContext(run, candidate.taskId, 0, facts, now, {
      spec: candidate.spec,
    });
    items = forEachItems(forEach, context);
  } catch (error) {
    return { state: "FAILED", error: (error as Error).message };
  }
  if (items.length === 0) return { state: "SUCCESS", output: { outputs: [] } };
  return {
    state: "RUNNING",
    children: forEachChildren(candidate.spec, items),
  };
}

function checkCondition(
  candidate: Candidate,
  run: LockedRun,
  facts: ReadonlyMap<string, TaskFacts>,
  now: Date,
): Move {
  const condition = candidate.spec.condition;
  if (typeof condition !== "string" || condition === "") {
    return { state: "QUEUED" };
  }
  try {
    const context = templateContext(run, candidate.taskId, 0, facts, now, {
      spec: candidate.spec,
    });
    return evaluateCondition(condition, context)
      ? { state: "QUEUED" }
      : { state: "SKIPPED" };
  } catch (error) {
    return {
      state: "FAILED",
      error: `condition: ${(error as Error).message}`,
    };
  }
}

/**
 * Stores the moves. Plain state changes are sent on `writes` without
 * waiting; a for_each's children are inserted before anything after. A
 * for_each whose children would pass the run's bound on made tasks
 * (countMadeTasks) fails instead, its move replaced to say so.
 */
async function applyMoves(
  tx: Db,
  runId: string,
  moves: Map<string, Move>,
  now: Date,
  writes: Pipelined,
): Promise<void> {
  const byState = new Map<TaskStateName, string[]>();
  for (const [taskId, planned] of moves) {
    let move = planned;
    if (move.children !== undefined) {
      await writes.done();
      const tooMany = await countMadeTasks(tx, runId, move.children.length);
      if (tooMany === undefined) {
        await insertChildren(tx, runId, taskId, move.children, now);
        continue;
      }
      move = { state: "FAILED", error: `for_each: ${tooMany}` };
      moves.set(taskId, move);
    }
    const one = and(eq(tasks.runId, runId), eq(tasks.taskId, taskId));
    if (move.output !== undefined) {
      writes.send(
        tx
          .update(tasks)
          .set({ state: move.state, output: move.output, finishedAt: now })
          .where(one),
      );
      continue;
    }
    if (move.error) {
      writes.send(
        tx
          .update(tasks)
          .set({ state: move.state, error: move.error, finishedAt: now })
          .where(one),
      );
      continue;
    }
    const ids = byState.get(move.state) ?? [];
    ids.push(taskId);
    byState.set(move.state, ids);
  }
  for (const [state, ids] of byState) {
    const times = state === "QUEUED" ? { queuedAt: now } : { finishedAt: now };
    writes.send(
      tx
        .update(tasks)
        .set({ state, ...times })
        .where(and(eq(tasks.runId, runId), taskIdIn(ids))),
    );
  }
}

/** Ends the run when no task can change any more. */
async function finishIfDone(
  tx: Db,
  runId: string,
  now: Date,
): Promise<{ state: RunStateName; error: string } | undefined> {
  // One open task is enough to know the run goes on; the partial index
  // tasks_open answers that without reading the finished ones.
  const [open] = rowsOf<{ open: boolean }>(
    await tx.execute(sql`
      SELECT EXISTS (
        SELECT 1 FROM tasks WHERE run_id = ${runId}
          AND state NOT IN
            ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')
      ) AS open`),
  );
  if (open?.open !== false) return undefined;
  // A failed group's children are named by the group's own error.
  const failedRows = rowsOf<{
    task_id: string;
    position: number;
    generated_order: number[];
  }>(
    await tx.execute(sql`
      SELECT task_id, position, generated_order FROM tasks t
      WHERE run_id = ${runId}
        AND state IN ('FAILED', 'KILLED', 'UPSTREAM_FAILED')
        AND NOT EXISTS (
          SELECT 1 FROM tasks p
          WHERE p.run_id = t.run_id AND p.task_id = t.spec->>'parent'
            AND p.state IN ('FAILED', 'KILLED', 'UPSTREAM_FAILED'))`),
  );
  const failed = inDefinitionOrder(
    failedRows.map((r) => ({
      taskId: r.task_id,
      position: r.position,
      generatedOrder: r.generated_order,
    })),
  ).map((r) => r.taskId);
  const state: RunStateName = failed.length > 0 ? "FAILED" : "SUCCESS";
  const error =
    failed.length > 0 ? `tasks did not succeed: ${nameTasks(failed)}` : "";
  await tx
    .update(runs)
    .set({ state, error, finishedAt: now })
    .where(eq(runs.id, runId));
  return { state, error };
}
