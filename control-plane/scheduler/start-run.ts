import { randomUUID } from "node:crypto";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { WorkflowDefinition } from "../../workflow/index.js";
import { type Db, runs } from "../db/index.js";
import {
  appendRunEvents,
  holdTaskQueued,
} from "../events/append-run-events.js";
import { runsStarted } from "../metrics/process-metrics.js";
import { advanceRun } from "./advance-run.js";
import { runOfSameStart } from "./idempotent-start.js";
import { Pipelined } from "./pipelined.js";
import {
  insertTasks,
  queuedAtStart,
  type TaskRow,
  taskRow,
} from "./task-row.js";

/** What a new run is made of. */
export interface StartRunInput {
  definition: WorkflowDefinition;
  /** The definition's param defaults with the run's overrides applied. */
  params: JsonObject;
  /** Zero for an inline definition. */
  workflowVersion: number;
  /**
   * The version a start by name asked for; zero for the latest (or an
   * inline definition). An idempotency key's run must have it.
   */
  pinnedVersion?: number | undefined;
  idempotencyKey?: string | undefined;
}

export interface StartedRun {
  runId: string;
  /** False when the idempotency key named an existing run. */
  created: boolean;
}

/**
 * Stores a run and its tasks and queues the tasks that have no upstream,
 * all in one transaction: a run is either wholly stored or not at all.
 *
 * `alongside` is a last statement for the same transaction once tasks
 * are queued: the API claims the first of them for an agent there
 * (Dispatcher.handOffToAny). The transaction then wakes every
 * dispatcher only if tasks are left queued for others.
 */
export async function startRun(
  db: Db,
  input: StartRunInput,
  now: Date,
  alongside?: (tx: Db, writes: Pipelined) => void,
): Promise<StartedRun> {
  const started = await db.transaction(async (tx) => {
    const key = input.idempotencyKey || undefined;
    if (key) {
      const existing = await runOfSameStart(tx, key, input);
      if (existing) return { runId: existing, created: false };
    }
    const runId = randomUUID();
    const insertRun = tx
      .insert(runs)
      .values({
        id: runId,
        workflowName: input.definition.name,
        workflowVersion: input.workflowVersion,
        definition: input.definition as unknown as JsonObject,
        params: input.params,
        concurrency: input.definition.concurrency ?? null,
        deadlineAt: deadlineOf(input.definition, now),
        state: "PENDING",
        idempotencyKey: key ?? null,
        createdAt: now,
      })
      .onConflictDoNothing({ target: runs.idempotencyKey })
      .returning({ id: runs.id });
    // Without a key, nothing can be in the run's way: the run, its tasks,
    // their events and the advance's first reads share one round trip.
    const writes = new Pipelined();
    if (key) {
      // A concurrent start with the same key may commit between the
      // look-up above and this insert: the insert then waits for it, does
      // nothing, and the run it stored is the answer.
      const inserted = await insertRun;
      if (inserted.length === 0) {
        const winner = await runOfSameStart(tx, key, input);
        if (!winner) {
          throw new Error(
            "idempotency_key: held by a concurrent start whose run is gone",
          );
        }
        return { runId: winner, created: false };
      }
    } else {
      writes.send(insertRun);
    }
    const rows = input.definition.tasks.map(
      (t, i): TaskRow =>
        taskRow(runId, t, { position: i }, now, queuedAtStart(t)),
    );
    await insertTasks(tx, rows, writes);
    const queued = rows.filter((r) => r.state === "QUEUED");
    writes.send(
      appendRunEvents(tx, [
        { runId, state: "PENDING" },
        ...queued.map((r) => ({ runId, taskId: r.taskId, state: "QUEUED" })),
      ]),
    );
    // The rest (conditions, for_each, trigger rules of tasks with
    // upstream) is the advance's to decide. The claim alongside goes out
    // behind its writes, in their round trip.
    const hold = alongside ? holdTaskQueued(tx) : undefined;
    return writes.around(async () => {
      await advanceRun(tx, runId, "start", now, {
        queued: queued.length,
        writes,
      });
      const claimed = alongside !== undefined && hold?.asked === true;
      if (claimed) alongside(tx, writes);
      hold?.release(writes, claimed);
      return { runId, created: true };
    });
  });
  if (started.created) runsStarted.inc();
  return started;
}

/** When a run started `now` fails for its `timeout`, or null for none. */
function deadlineOf(definition: WorkflowDefinition, now: Date): Date | null {
  const { timeout } = definition;
  return timeout === undefined
    ? null
    : new Date(now.getTime() + timeout * 1000);
}
