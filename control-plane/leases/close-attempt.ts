import { and, eq, isNull, sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { attempts, type Db, leases, tasks } from "../db/index.js";
import {
  appendRunEvents,
  appendRunEventsFrom,
  notifyTaskQueued,
} from "../events/append-run-events.js";
import { advanceRun } from "../scheduler/advance-run.js";
import { Pipelined } from "../scheduler/pipelined.js";
import {
  type AttemptFailure,
  decideRetry,
} from "../scheduler/retry-decision.js";
import {
  type AttemptOutcomeName,
  LEASED_TASK_STATES,
  type TaskStateName,
} from "../scheduler/states.js";
import { spliceGenerated } from "../scheduler/task-groups.js";
import { loadTaskTypeCatalog } from "../workflows/task-type-catalog.js";
import type { LeaseStateName } from "./lease-state.js";

/** A held lease, as locked by the caller. */
export interface HeldLease {
  id: string;
  runId: string;
  taskId: string;
  attempt: number;
  agentId: string;
}

/** A lease row as SQL reads it, in the shape closeAttempt takes. */
export function heldLeaseOf(row: {
  id: string;
  run_id: string;
  task_id: string;
  attempt: number;
  agent_id: string;
}): HeldLease {
  return {
    id: row.id,
    runId: row.run_id,
    taskId: row.task_id,
    attempt: row.attempt,
    agentId: row.agent_id,
  };
}

/** How an attempt ended. */
export interface AttemptEnd {
  outcome: AttemptOutcomeName;
  /** The lease's final state. */
  leaseState: LeaseStateName;
  exitCode?: number | undefined;
  output?: JsonObject | undefined;
  error?: string | undefined;
  /** For failures: how the retry policy sees it. */
  failure?: AttemptFailure | undefined;
  startedAt?: Date | undefined;
  finishedAt?: Date | undefined;
  /**
   * The attempt never started (not acknowledged, or rejected): the task
   * goes back to the queue and the attempt does not count against
   * max_attempts.
   */
  requeue?: boolean | undefined;
}

/**
 * Assignments of one task that may go unstarted before it fails, so that
 * a task no agent will take cannot circle forever.
 */
export const MAX_UNSTARTED_ATTEMPTS = 5;

/**
 * Ends an attempt whose lease the caller holds locked: releases the
 * lease, records the attempt once, moves the task to SUCCESS, RETRY or
 * FAILED, and advances the run. A task already KILLED stays KILLED.
 */
export async function closeAttempt(
  tx: Db,
  lease: HeldLease,
  end: AttemptEnd,
  now: Date,
): Promise<TaskStateName> {
  await tx
    .update(leases)
    .set({ state: end.leaseState, releasedAt: now })
    .where(eq(leases.id, lease.id));
  await tx
    .update(attempts)
    .set({
      outcome: end.outcome,
      exitCode: end.exitCode ?? null,
      error: end.error ?? "",
      retryClass: end.failure?.retryClass ?? null,
      output: end.output ?? null,
      startedAt: end.startedAt,
      finishedAt: end.finishedAt ?? now,
    })
    .where(eq(attempts.leaseId, lease.id));
  const where = and(
    eq(tasks.runId, lease.runId),
    eq(tasks.taskId, lease.taskId),
  );
  const [task] = await tx
    .select({
      state: tasks.state,
      spec: tasks.spec,
      attemptCount: tasks.attemptCount,
      maxAttempts: tasks.maxAttempts,
    })
    .from(tasks)
    .where(where)
    .for("update");
  if (!task || !LEASED_TASK_STATES.includes(task.state)) {
    return task?.state ?? "KILLED";
  }
  let next: NextState =
    end.requeue && (await unstartedAttempts(tx, lease)) < MAX_UNSTARTED_ATTEMPTS
      ? ({ state: "QUEUED", error: end.error ?? "" } as const)
      : decideNext(task, end, now);
  // A dynamic task that succeeded becomes the group of the tasks its
  // output defines, or fails when they are not valid.
  let spliced: string[] | undefined;
  // Generated tasks without upstream that a condition or for_each keeps
  // from the queue: the advance decides them, as it does at a run's start.
  let decideAll = false;
  if (next.state === "SUCCESS" && task.spec.dynamic === true) {
    const result = await spliceGenerated(
      tx,
      lease.runId,
      task.spec,
      end.output,
      await loadTaskTypeCatalog(tx),
      now,
    );
    if ("error" in result) next = { state: "FAILED", error: result.error };
    else if (result.queued.length > 0 || result.stored > 0) {
      next = { state: "RUNNING", error: "" };
      spliced = result.queued;
      decideAll = result.toDecide > 0;
    }
  }
  await tx
    .update(tasks)
    .set({
      state: next.state,
      exitCode: end.exitCode ?? null,
      error: next.error,
      ...(end.outcome === "SUCCESS" ? { output: end.output ?? {} } : {}),
      ...(next.state === "RETRY" ? { notBefore: next.notBefore } : {}),
      ...(next.state === "QUEUED"
        ? { queuedAt: now, maxAttempts: task.maxAttempts + 1 }
        : {}),
      ...(next.state === "SUCCESS" || next.state === "FAILED"
        ? { finishedAt: now }
        : {}),
    })
    .where(where);
  // A dynamic task that was RUNNING stays so while its group runs: its
  // history already says so.
  const changed = next.state !== task.state;
  await appendRunEvents(tx, [
    ...(changed
      ? [
          {
            runId: lease.runId,
            taskId: lease.taskId,
            state: next.state,
            attempt: lease.attempt,
            agentId: lease.agentId,
            error: next.error,
          },
        ]
      : []),
    ...(spliced ?? []).map((taskId) => ({
      runId: lease.runId,
      taskId,
      state: "QUEUED" as const,
    })),
  ]);
  if (spliced !== undefined && spliced.length > 0) {
    await notifyTaskQueued(tx);
  }
  if (next.state === "QUEUED") {
    await notifyTaskQueued(tx);
  } else if (next.state !== "RETRY") {
    await advanceRun(
      tx,
      lease.runId,
      decideAll ? "start" : [lease.taskId],
      now,
    );
  } else if (next.notBefore.getTime() <= now.getTime()) {
    await notifyTaskQueued(tx);
  }
  return next.state;
}

/** A plain task's attempt that succeeded, its run locked by the caller. */
export interface SucceededAttempt {
  lease: HeldLease;
  /**
   * Whether the lease was acknowledged. A result can overtake a lost
   * acknowledgement; the task then gets its RUNNING event and start here.
   */
  acknowledged: boolean;
  exitCode?: number | undefined;
  output?: JsonObject | undefined;
  startedAt?: Date | undefined;
  finishedAt?: Date | undefined;
}

/**
 * Ends many successful attempts as {@link closeAttempt} would, in a few
 * statements for the whole batch, then advances each of their runs once.
 * Only for attempts whose task is still ASSIGNED or RUNNING and is not
 * dynamic: the caller has checked, under the runs' locks. With a
 * `pipeline`, the writes are sent on it and the caller collects them.
 */
export async function closeSucceeded(
  tx: Db,
  done: readonly SucceededAttempt[],
  now: Date,
  pipeline?: Pipelined,
): Promise<void> {
  if (done.length === 0) return;
  const at = now.toISOString();
  const json = (value: JsonObject | undefined) =>
    value === undefined ? null : JSON.stringify(value);
  const time = (value: Date | undefined) => value?.toISOString() ?? null;
  // Sent without waiting: the runs' advances read after it, in order, and
  // their first round trip carries it.
  const closing = pipeline ?? new Pipelined();
  closing.send(
    tx.execute(sql`
    WITH done AS (
      SELECT * FROM unnest(
        ${sql.param(done.map((d) => d.lease.id))}::uuid[],
        ${sql.param(done.map((d) => d.lease.runId))}::uuid[],
        ${sql.param(done.map((d) => d.lease.taskId))}::text[],
        ${sql.param(done.map((d) => d.lease.attempt))}::int[],
        ${sql.param(done.map((d) => d.lease.agentId))}::text[],
        ${sql.param(done.map((d) => d.exitCode ?? null))}::int[],
        ${sql.param(done.map((d) => json(d.output)))}::text[],
        ${sql.param(done.map((d) => time(d.startedAt)))}::text[],
        ${sql.param(done.map((d) => time(d.finishedAt)))}::text[],
        ${sql.param(done.map((d) => d.acknowledged))}::boolean[]
      ) AS d(lease_id, run_id, task_id, attempt, agent_id, exit_code, output,
        started_at, finished_at, acknowledged)
    ),
    released AS (
      UPDATE leases l SET state = 'RELEASED', released_at = ${at}::timestamptz
      FROM done WHERE l.id = done.lease_id
    ),
    recorded AS (
      UPDATE attempts a
      SET outcome = 'SUCCESS', exit_code = done.exit_code, error = '',
        retry_class = NULL, output = done.output::jsonb,
        started_at = coalesce(done.started_at::timestamptz, a.started_at,
          ${at}::timestamptz),
        finished_at = coalesce(done.finished_at::timestamptz, ${at}::timestamptz)
      FROM done WHERE a.lease_id = done.lease_id
    ),
    succeeded AS (
      UPDATE tasks t
      SET state = 'SUCCESS', exit_code = done.exit_code, error = '',
        output = coalesce(done.output::jsonb, '{}'::jsonb),
        started_at = coalesce(t.started_at, done.started_at::timestamptz,
          ${at}::timestamptz),
        finished_at = ${at}::timestamptz
      FROM done WHERE t.run_id = done.run_id AND t.task_id = done.task_id
    ),
    ${appendRunEventsFrom(sql`
      SELECT run_id, task_id, 'RUNNING', attempt, agent_id, '', 0
      FROM done WHERE NOT acknowledged
      UNION ALL
      SELECT run_id, task_id, 'SUCCESS', attempt, agent_id, '', 1 FROM done`)}
    SELECT notified FROM events_notified`),
  );
  const ended = new Map<string, string[]>();
  for (const { lease } of done) {
    const taskIds = ended.get(lease.runId) ?? [];
    taskIds.push(lease.taskId);
    ended.set(lease.runId, taskIds);
  }
  const advance = async () => {
    for (const runId of [...ended.keys()].sort()) {
      await advanceRun(tx, runId, ended.get(runId) ?? [], now, {
        writes: closing,
      });
    }
  };
  if (pipeline) await advance();
  else await closing.around(advance);
}

type NextState =
  | { state: "QUEUED"; error: string }
  /** A dynamic task whose generated tasks now run. */
  | { state: "RUNNING"; error: string }
  | { state: "SUCCESS"; error: string }
  | { state: "FAILED"; error: string }
  | { state: "RETRY"; error: string; notBefore: Date };

function decideNext(
  task: { spec: JsonObject; attemptCount: number; maxAttempts: number },
  end: AttemptEnd,
  now: Date,
): NextState {
  if (end.outcome === "SUCCESS") return { state: "SUCCESS", error: "" };
  const failure = end.failure ?? { retryClass: "error", retryable: true };
  const decision = decideRetry(
    task.spec,
    task.attemptCount,
    task.maxAttempts,
    failure,
    now,
  );
  const error = end.error || end.outcome.toLowerCase();
  if (decision.state === "FAILED") return { state: "FAILED", error };
  return { state: "RETRY", error, notBefore: decision.notBefore };
}

/** Attempts of the lease's task that ended without ever starting. */
async function unstartedAttempts(tx: Db, lease: HeldLease): Promise<number> {
  const rows = await tx
    .select({ number: attempts.number })
    .from(attempts)
    .where(
      and(
        eq(attempts.runId, lease.runId),
        eq(attempts.taskId, lease.taskId),
        isNull(attempts.startedAt),
        sql`${attempts.retryClass} IS DISTINCT FROM ${RETURNED}`,
      ),
    );
  return rows.length;
}

/**
 * The retry class of an assignment the control plane took back before
 * anyone had it (a polling worker's call that went away): it requeues
 * its task and is not counted against MAX_UNSTARTED_ATTEMPTS.
 */
export const RETURNED = "returned";
