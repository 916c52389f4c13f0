import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { and, asc, eq, sql } from "drizzle-orm";
import {
  type Attempt,
  AttemptOutcome,
  AttemptSchema,
  type Run,
  type RunEvent,
  RunEventSchema,
  RunSchema,
  RunState,
  type Task,
  TaskSchema,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import { agents, attempts, type Db, rowsOf, runs, tasks } from "../db/index.js";
import { allocatedResources } from "../dispatch/agent-resources.js";
import type { RunEventRow } from "../events/read-run-events.js";

/**
 * The columns a run's view shows: every one but its definition, which a
 * run of 10,000 tasks stores as a megabyte of JSON that StartRun's answer
 * read back, parsed and dropped.
 */
export const runViewColumns = {
  id: runs.id,
  workflowName: runs.workflowName,
  workflowVersion: runs.workflowVersion,
  state: runs.state,
  params: runs.params,
  error: runs.error,
  idempotencyKey: runs.idempotencyKey,
  createdAt: runs.createdAt,
  startedAt: runs.startedAt,
  finishedAt: runs.finishedAt,
};

type RunRow = Pick<typeof runs.$inferSelect, keyof typeof runViewColumns>;
type TaskRow = typeof tasks.$inferSelect;
type AttemptRow = typeof attempts.$inferSelect & { agentName: string | null };
type EventRow = Omit<RunEventRow, "batch">;

const ts = (d: Date | null | undefined) =>
  d ? timestampFromDate(d) : undefined;

/** A run as the API shows it; with its tasks when `withTasks`. */
export async function loadRun(
  db: Db,
  runId: string,
  withTasks: boolean,
): Promise<Run | undefined> {
  const [row] = await db
    .select(runViewColumns)
    .from(runs)
    .where(eq(runs.id, runId));
  if (!row) return undefined;
  const counts = await taskCounts(db, [runId]);
  const run = toRun(row, counts.get(runId) ?? {});
  if (withTasks) run.tasks = await loadTasks(db, runId);
  return run;
}

/** Task counts by state for some runs, in one query. */
export async function taskCounts(
  db: Db,
  runIds: readonly string[],
): Promise<Map<string, Record<string, number>>> {
  const result = new Map<string, Record<string, number>>();
  if (runIds.length === 0) return result;
  const rows = rowsOf<{ run_id: string; state: string; n: number }>(
    await db.execute(sql`
      SELECT run_id, state, count(*)::int AS n FROM tasks
      WHERE run_id = ANY(${sql.param([...runIds])}::uuid[])
      GROUP BY run_id, state`),
  );
  for (const r of rows) {
    const counts = result.get(r.run_id) ?? {};
    counts[r.state] = Number(r.n);
    result.set(r.run_id, counts);
  }
  return result;
}

export function toRun(row: RunRow, counts: Record<string, number>): Run {
  return create(RunSchema, {
    id: row.id,
    workflowName: row.workflowName,
    workflowVersion: row.workflowVersion,
    state: RunState[row.state],
    params: row.params,
    error: row.error,
    idempotencyKey: row.idempotencyKey ?? "",
    createdAt: ts(row.createdAt),
    startedAt: ts(row.startedAt),
    finishedAt: ts(row.finishedAt),
    taskCounts: counts,
  });
}

/**
 * Task ids of one position (a group and its children): numbers compared
 * as numbers (each[2] before each[10]), and `[` before any other
 * character, so that a group's children follow it at once, ahead of a
 * sibling such as each-x or each_y. Otherwise by code point.
 */
export function compareTaskIds(a: string, b: string): number {
  return compareIdParts(idParts(a), idParts(b));
}

function idParts(id: string): string[] {
  return id.match(ID_PARTS) ?? [];
}

function compareIdParts(x: string[], y: string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p === q) continue;
    const pn = DIGITS.test(p);
    const qn = DIGITS.test(q);
    if (pn && qn) return Number(p) - Number(q) || p.length - q.length;
    if (p[0] === "[" && q[0] !== "[") return -1;
    if (q[0] === "[" && p[0] !== "[") return 1;
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

/**
 * Rows in definition order: by position; then a dynamic task's generated
 * tasks after it, in the order it made them; then a group's children
 * after it (see {@link compareTaskIds}). Each id is split once, not at
 * every comparison: a group may hold 10,000 children.
 */
export function inDefinitionOrder<
  T extends {
    position: number;
    generatedOrder: readonly number[];
    taskId: string;
  },
>(rows: T[]): T[] {
  return rows
    .map((row) => ({ row, parts: idParts(row.taskId) }))
    .sort(
      (a, b) =>
        a.row.position - b.row.position ||
        compareOrders(a.row.generatedOrder, b.row.generatedOrder) ||
        compareIdParts(a.parts, b.parts),
    )
    .map(({ row }) => row);
}

/** Element by element; a prefix (the generator) first. */
function compareOrders(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A run of digits, or one other character. */
const ID_PARTS = /[0-9]+|[^0-9]/gu;
const DIGITS = /^[0-9]/;

/** A run's tasks in definition order, each with its attempts. */
export async function loadTasks(
  db: Db,
  runId: string,
  taskId?: string,
): Promise<Task[]> {
  const where = taskId
    ? and(eq(tasks.runId, runId), eq(tasks.taskId, taskId))
    : eq(tasks.runId, runId);
  const taskRows = inDefinitionOrder(
    await db.select().from(tasks).where(where),
  );
  const attemptWhere = taskId
    ? and(eq(attempts.runId, runId), eq(attempts.taskId, taskId))
    : eq(attempts.runId, runId);
  const attemptRows = await db
    .select({ attempt: attempts, agentName: agents.name })
    .from(attempts)
    .leftJoin(agents, eq(agents.id, attempts.agentId))
    .where(attemptWhere)
    .orderBy(asc(attempts.number));
  const byTask = new Map<string, AttemptRow[]>();
  for (const { attempt, agentName } of attemptRows) {
    const list = byTask.get(attempt.taskId) ?? [];
    list.push({ ...attempt, agentName });
    byTask.set(attempt.taskId, list);
  }
  return taskRows.map((t) => toTask(t, byTask.get(t.taskId) ?? []));
}

function toTask(row: TaskRow, rows: AttemptRow[]): Task {
  const last = rows.at(-1);
  return create(TaskSchema, {
    runId: row.runId,
    id: row.taskId,
    name: row.name,
    type: row.type,
    state: TaskState[row.state],
    dependsOn: row.dependsOn,
    attemptCount: row.attemptCount,
    maxAttempts: row.maxAttempts,
    output: row.output ?? undefined,
    exitCode: row.exitCode ?? undefined,
    error: row.error,
    agentId: row.agentId ?? "",
    agentName: last?.agentName ?? "",
    nodeSelector: row.nodeSelector,
    affinity: row.affinity ?? [],
    priority: row.priority,
    createdAt: ts(row.createdAt),
    startedAt: ts(row.startedAt),
    finishedAt: ts(row.finishedAt),
    attempts: rows.map(toAttempt),
  });
}

function toAttempt(row: AttemptRow): Attempt {
  return create(AttemptSchema, {
    number: row.number,
    leaseId: row.leaseId,
    fencingToken: BigInt(row.fencingToken),
    agentId: row.agentId,
    agentName: row.agentName ?? "",
    outcome: row.outcome
      ? AttemptOutcome[row.outcome]
      : AttemptOutcome.UNSPECIFIED,
    exitCode: row.exitCode ?? undefined,
    error: row.error,
    assignedAt: ts(row.assignedAt),
    startedAt: ts(row.startedAt),
    finishedAt: ts(row.finishedAt),
    resources: row.resources ? allocatedResources(row.resources) : undefined,
  });
}

/** One stored event as the API shows it. */
export function toRunEvent(row: EventRow): RunEvent {
  const base = {
    sequence: BigInt(row.sequence),
    runId: row.runId,
    time: ts(row.time),
  };
  if (row.taskId === "") {
    return create(RunEventSchema, {
      ...base,
      kind: {
        case: "runStateChanged",
        value: {
          state: RunState[row.state as keyof typeof RunState],
          error: row.error,
        },
      },
    });
  }
  return create(RunEventSchema, {
    ...base,
    kind: {
      case: "taskStateChanged",
      value: {
        taskId: row.taskId,
        state: TaskState[row.state as keyof typeof TaskState],
        attempt: row.attempt,
        agentId: row.agentId,
        error: row.error,
      },
    },
  });
}
