import { sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  type AffinityExpression,
  type ResourceRequest,
  resourceRequest,
  type TaskDefinition,
} from "../../workflow/index.js";
import type { Db } from "../db/index.js";
import type { Pipelined } from "./pipelined.js";

/** Rows inserted per statement, so no one statement carries megabytes. */
const INSERT_CHUNK = 2_000;

/** A new task's row, as {@link insertTasks} stores it. */
export interface TaskRow {
  runId: string;
  taskId: string;
  position: number;
  /** Its place among generated tasks (tasks.generated_order); [] if none. */
  generatedOrder: readonly number[];
  name: string;
  type: string;
  state: "CREATED" | "QUEUED";
  dependsOn: string[];
  spec: JsonObject;
  priority: number;
  nodeSelector: Record<string, string>;
  /** Null when the task has no affinity expressions. */
  affinity: AffinityExpression[] | null;
  /** Its `resources` in base units; null when it asks for none. */
  requests: ResourceRequest | null;
  maxAttempts: number;
  /** When it was made, and queued if it is QUEUED. */
  createdAt: Date;
}

/**
 * Stores new tasks, a chunk of rows per statement. The rows travel as one
 * JSON document per chunk rather than as a parameter per value: building
 * and sending 16 parameters for each of 10,000 tasks took most of a
 * large run's StartRun. Each row is an array of what differs from task to
 * task, not an object: PostgreSQL parses the document as a whole, and the
 * keys were two thirds of it. The run's id and the time, the same for
 * every row (every caller stores the tasks of one run at one time), are
 * sent once per statement, and so is the time a queued row was queued.
 * With `writes`, the chunks are sent on it without waiting.
 */
export async function insertTasks(
  tx: Db,
  rows: readonly TaskRow[],
  writes?: Pipelined,
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const { runId, createdAt } = first;
  for (const row of rows) {
    if (
      row.runId !== runId ||
      row.createdAt.getTime() !== createdAt.getTime()
    ) {
      throw new Error("insertTasks: rows of one run, made at one time");
    }
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows
      .slice(i, i + INSERT_CHUNK)
      .map((row) => [
        row.taskId,
        row.position,
        row.name,
        row.type,
        row.state === "QUEUED" ? 1 : 0,
        row.dependsOn.length === 0 ? "{}" : textArray(row.dependsOn),
        row.spec,
        row.priority,
        row.nodeSelector,
        row.affinity,
        row.maxAttempts,
        row.requests,
        row.generatedOrder.length === 0
          ? "{}"
          : `{${row.generatedOrder.join(",")}}`,
      ]);
    const insert = tx.execute(sql`
      INSERT INTO tasks (run_id, task_id, position, name, type, state,
        depends_on, spec, priority, node_selector, affinity, max_attempts,
        created_at, queued_at, requests, generated_order)
      SELECT ${runId}::uuid, r->>0, (r->>1)::int, r->>2, r->>3,
        CASE WHEN (r->>4)::int = 1 THEN 'QUEUED' ELSE 'CREATED' END,
        (r->>5)::text[], r->6, (r->>7)::int, r->8, nullif(r->9, 'null'::jsonb),
        (r->>10)::int, ${createdAt.toISOString()}::timestamptz,
        CASE WHEN (r->>4)::int = 1
          THEN ${createdAt.toISOString()}::timestamptz END,
        nullif(r->11, 'null'::jsonb), (r->>12)::int[]
      FROM jsonb_array_elements(${JSON.stringify(chunk)}::jsonb) AS r`);
    if (writes) writes.send(insert);
    else await insert;
  }
}

/** A text[] literal: each element quoted, its quotes and backslashes escaped. */
function textArray(items: readonly string[]): string {
  const quoted = items.map((item) => `"${item.replace(/[\\"]/g, "\\$&")}"`);
  return `{${quoted.join(",")}}`;
}

/** Where a task is listed: see tasks.position and tasks.generated_order. */
export interface TaskPlace {
  position: number;
  generatedOrder?: readonly number[];
}

/** The row of a new task made `now`: CREATED, or QUEUED at once. */
export function taskRow(
  runId: string,
  task: TaskDefinition,
  place: TaskPlace,
  now: Date,
  queued: boolean,
): TaskRow {
  return {
    runId,
    taskId: task.id,
    position: place.position,
    generatedOrder: place.generatedOrder ?? [],
    name: task.name ?? "",
    type: task.type,
    state: queued ? "QUEUED" : "CREATED",
    dependsOn: task.depends_on,
    spec: task as unknown as JsonObject,
    priority: task.priority ?? 0,
    nodeSelector: {
      ...(task.node_selector ?? {}),
      ...pythonVersionSelector(task),
    },
    // Stored only when there is something to check: the claim passes a
    // null at once, and most tasks have none.
    affinity: task.affinity?.length ? task.affinity : null,
    requests: resourceRequest(task.resources),
    maxAttempts: maxAttempts(task),
    createdAt: now,
  };
}

/**
 * Whether a task is QUEUED the moment its run starts: no upstream (so its
 * trigger rule is met), no condition to evaluate and nothing to expand.
 * Stored QUEUED at once, such a task is written once instead of inserted
 * and then updated, which for a run of 10,000 independent tasks is half
 * its StartRun and 10,000 dead index entries at the head of the queue.
 */
export function queuedAtStart(task: TaskDefinition): boolean {
  const condition = task.condition;
  return (
    task.depends_on.length === 0 &&
    (typeof condition !== "string" || condition === "") &&
    task.for_each === undefined
  );
}

/** `retry.max_attempts` wins over the `retries` shorthand. */
export function maxAttempts(task: TaskDefinition): number {
  const fromRetry = task.retry?.max_attempts;
  if (typeof fromRetry === "number") return fromRetry;
  return (task.retries ?? 0) + 1;
}

/**
 * A python task's `python_version` as the label agents advertise for it
 * (`python3.11: "true"`), so only an agent with that interpreter claims
 * it. A templated version is known only on the agent, which says so.
 */
function pythonVersionSelector(task: TaskDefinition): Record<string, string> {
  const version =
    task.type === "python" ? task.config.python_version : undefined;
  if (typeof version !== "string" || !/^3\.\d+$/.test(version)) return {};
  return { [`python${version}`]: "true" };
}
