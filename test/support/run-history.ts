import { asc, eq } from "drizzle-orm";
import {
  attempts,
  type Db,
  leases,
  runEvents,
  tasks,
} from "../../control-plane/db/index.js";
import { findHistoryViolations } from "./history-violations.js";

/** One row of a run's event history that concerns a task. */
export interface HistoryEvent {
  sequence: number;
  taskId: string;
  state: string;
  /** The attempt the event is about; 0 when it is about none. */
  attempt: number;
  agentId: string;
}

/** A task as stored when the history was read. */
export interface HistoryTask {
  taskId: string;
  state: string;
  attemptCount: number;
  output: unknown;
}

/** An attempt as stored. */
export interface HistoryAttempt {
  taskId: string;
  number: number;
  leaseId: string;
  fencingToken: number;
  agentId: string;
  /** Null while the attempt has not ended. */
  outcome: string | null;
  exitCode: number | null;
  output: unknown;
}

/** A lease as stored. */
export interface HistoryLease {
  id: string;
  taskId: string;
  attempt: number;
  agentId: string;
  fencingToken: number;
  state: string;
}

/**
 * Everything the history checker looks at for one run, read straight
 * from the control plane's tables: the event history, and the tasks,
 * attempts and leases it should agree with.
 */
export interface RunHistory {
  runId: string;
  /** Task events only (run-level events are left out), in order. */
  events: HistoryEvent[];
  tasks: HistoryTask[];
  attempts: HistoryAttempt[];
  leases: HistoryLease[];
}

/** Reads a run's history from the database. */
export async function loadRunHistory(
  db: Db,
  runId: string,
): Promise<RunHistory> {
  const eventRows = await db
    .select()
    .from(runEvents)
    .where(eq(runEvents.runId, runId))
    .orderBy(asc(runEvents.sequence));
  const taskRows = await db
    .select({
      taskId: tasks.taskId,
      state: tasks.state,
      attemptCount: tasks.attemptCount,
      output: tasks.output,
    })
    .from(tasks)
    .where(eq(tasks.runId, runId));
  const attemptRows = await db
    .select({
      taskId: attempts.taskId,
      number: attempts.number,
      leaseId: attempts.leaseId,
      fencingToken: attempts.fencingToken,
      agentId: attempts.agentId,
      outcome: attempts.outcome,
      exitCode: attempts.exitCode,
      output: attempts.output,
    })
    .from(attempts)
    .where(eq(attempts.runId, runId));
  const leaseRows = await db
    .select({
      id: leases.id,
      taskId: leases.taskId,
      attempt: leases.attempt,
      agentId: leases.agentId,
      fencingToken: leases.fencingToken,
      state: leases.state,
    })
    .from(leases)
    .where(eq(leases.runId, runId));
  return {
    runId,
    events: eventRows
      .filter((e) => e.taskId !== "")
      .map((e) => ({
        sequence: Number(e.sequence),
        taskId: e.taskId,
        state: e.state,
        attempt: e.attempt,
        agentId: e.agentId,
      })),
    tasks: taskRows,
    attempts: attemptRows.map((a) => ({
      ...a,
      fencingToken: Number(a.fencingToken),
    })),
    leases: leaseRows.map((l) => ({
      ...l,
      fencingToken: Number(l.fencingToken),
    })),
  };
}

/** Thrown by {@link checkRunHistory}; lists every violation. */
export class HistoryViolationError extends Error {
  override readonly name = "HistoryViolationError";
  constructor(
    readonly runId: string,
    readonly violations: readonly string[],
  ) {
    super(
      `run ${runId}'s history breaks the task lifecycle:\n  ` +
        violations.join("\n  "),
    );
  }
}

/**
 * Reads a run's history and throws a {@link HistoryViolationError} when
 * it breaks an invariant of the task lifecycle; returns it otherwise, for
 * the test's own assertions.
 */
export async function checkRunHistory(
  db: Db,
  runId: string,
): Promise<RunHistory> {
  const history = await loadRunHistory(db, runId);
  const violations = findHistoryViolations(history);
  if (violations.length > 0) throw new HistoryViolationError(runId, violations);
  return history;
}
