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
  createdAt: Date;
  queuedAt?: Date;
}

/**
 * Stores new tasks, a chunk of rows per statement. The rows travel as one
 * JSON document per chunk rather than as a parameter per value: building
 * and sending 16 parameters for each of 10,000 tasks took most of a
 * large run's StartRun. Each row is an array in the columns' order, not an
 * object: PostgreSQL parses the document as a whole, and the keys were
 * two thirds of it. With `writes`, the chunks are sent on it without
 * waiting.
 */
export async function insertTasks(
  tx: Db,
  rows: readonly TaskRow[],
  writes?: Pipelined,
): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows
      .slice(i, i + INSERT_CHUNK)
      .map((row) => [
        row.runId,
        row.taskId,
        row.position,
        row.name,
        row.type,
        row.state,
        textArray(row.dependsOn),
        row.spec,
        row.priority,
        row.nodeSelector,
        row.affinity,
        row.maxAttempts,
        row.createdAt.toISOString(),
        row.queuedAt?.toISOString() ?? null,
        row.requests,
        `{${row.generatedOrder.join(",")}}`,
      ]);
    const insert = tx.execute(sql`
      INSERT INTO tasks (run_id, task_id, position, name, type, state,
        depends_on, spec, priority, node_selector, affinity, max_attempts,
        created_at, queued_at, requests, generated_order)
      SELECT (r->>0)::uuid, r->>1, (r->>2)::int, r->>3, r->>4, r->>5,
        (r->>6)::text[], r->7, (r->>8)::int, r->9, nullif(r->10, 'null'::jsonb),
        (r->>11)::int, (r->>12)::timestamptz, (r->>13)::timestamptz,
        nullif(r->14, 'null'::jsonb), (r->>15)::int[]
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

/** The row of a new task: CREATED, or QUEUED when given `queuedAt`. */
export function taskRow(
  runId: string,
  task: TaskDefinition,
  place: TaskPlace,
  now: Date,
  queuedAt?: Date,
): TaskRow {
  return {
    runId,
    taskId: task.id,
    position: place.position,
    generatedOrder: place.generatedOrder ?? [],
    name: task.name ?? "",
    type: task.type,
    state: queuedAt === undefined ? "CREATED" : "QUEUED",
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
    queuedAt,
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
