/**
 * The lifecycles of runs, tasks and attempts (SPEC §4), and the one place
 * their transitions are allowed or refused.
 */

/** The states of a task. */
export type TaskStateName =
  /** Stored; its upstream is not done. */
  | "CREATED"
  /** Upstream done, condition true; waiting for its not-before time. */
  | "SCHEDULED"
  /** Eligible for dispatch. */
  | "QUEUED"
  /** A lease was granted and sent; the agent has not acknowledged. */
  | "ASSIGNED"
  /** The agent acknowledged and runs the attempt. */
  | "RUNNING"
  /** An attempt succeeded. */
  | "SUCCESS"
  /** The last attempt failed and no attempts are left. */
  | "FAILED"
  /** Cancelled by a user. */
  | "KILLED"
  /** An attempt failed; another follows after the backoff. */
  | "RETRY"
  /** Its condition was false, or the cause of its unmet rule was skips. */
  | "SKIPPED"
  /** Its trigger rule can no longer be met. */
  | "UPSTREAM_FAILED";

/** The states of a run. */
export type RunStateName =
  /** Stored; no task has been queued yet. */
  | "PENDING"
  /** At least one task was queued and the run has not ended. */
  | "RUNNING"
  /** Every task ended in SUCCESS or SKIPPED. */
  | "SUCCESS"
  /** A task failed or could not run. */
  | "FAILED"
  /** A user cancelled the run. */
  | "CANCELLED";

/** How an attempt ended. */
export type AttemptOutcomeName =
  | "SUCCESS"
  | "FAILED"
  | "TIMED_OUT"
  /** The lease expired before a result arrived. */
  | "LOST"
  | "KILLED";

/**
 * Allowed moves. The way out of FAILED, KILLED, UPSTREAM_FAILED and
 * SKIPPED is only a user's retry, which puts the task back to CREATED.
 */
const TASK_TRANSITIONS: Readonly<Record<TaskStateName, TaskStateName[]>> = {
  CREATED: [
    "SCHEDULED",
    "QUEUED",
    "SKIPPED",
    "UPSTREAM_FAILED",
    "FAILED",
    "KILLED",
  ],
  SCHEDULED: ["QUEUED", "KILLED"],
  QUEUED: ["ASSIGNED", "KILLED"],
  ASSIGNED: ["RUNNING", "QUEUED", "RETRY", "FAILED", "SUCCESS", "KILLED"],
  RUNNING: ["SUCCESS", "FAILED", "RETRY", "KILLED", "QUEUED"],
  RETRY: ["QUEUED", "KILLED"],
  SUCCESS: [],
  FAILED: ["CREATED"],
  KILLED: ["CREATED"],
  SKIPPED: ["CREATED"],
  UPSTREAM_FAILED: ["CREATED"],
};

const TERMINAL_TASK_STATES: ReadonlySet<TaskStateName> = new Set([
  "SUCCESS",
  "FAILED",
  "KILLED",
  "SKIPPED",
  "UPSTREAM_FAILED",
]);

const TERMINAL_RUN_STATES: ReadonlySet<RunStateName> = new Set([
  "SUCCESS",
  "FAILED",
  "CANCELLED",
]);

/** States in which a task holds, or is about to hold, a lease. */
export const LEASED_TASK_STATES: readonly TaskStateName[] = [
  "ASSIGNED",
  "RUNNING",
];

/** True when no further transition happens on its own. */
export function isTerminalTaskState(state: TaskStateName): boolean {
  return TERMINAL_TASK_STATES.has(state);
}

export function isTerminalRunState(state: RunStateName): boolean {
  return TERMINAL_RUN_STATES.has(state);
}

/** True when the lifecycle allows going from `from` to `to`. */
export function canTransitionTask(
  from: TaskStateName,
  to: TaskStateName,
): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

/** The states a task may move to from `from`. */
export function taskTransitionsFrom(
  from: TaskStateName,
): readonly TaskStateName[] {
  return TASK_TRANSITIONS[from];
}

/** Thrown when code asks for a transition the lifecycle forbids. */
export class InvalidTransitionError extends Error {
  override readonly name = "InvalidTransitionError";
  constructor(
    readonly from: TaskStateName,
    readonly to: TaskStateName,
  ) {
    super(`task cannot move from ${from} to ${to}`);
  }
}

export function assertTaskTransition(
  from: TaskStateName,
  to: TaskStateName,
): void {
  if (!canTransitionTask(from, to)) throw new InvalidTransitionError(from, to);
}
