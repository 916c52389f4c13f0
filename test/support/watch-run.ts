import type { ApiClients } from "../../cli/api-clients.js";
import {
  type Run,
  RunState,
  TaskState,
  type TaskStateChanged,
} from "../../gen/deerflow/v1/run_pb.js";

/** How long a wait on a run may take before the test fails. */
const DEFAULT_TIMEOUT_MS = 45_000;

/**
 * Follows WatchRun (from the start of the run's history) until a task
 * event matches, and returns it. Fails with `what` when the run ends, or
 * the time runs out, first.
 */
export async function waitForTaskEvent(
  clients: ApiClients,
  runId: string,
  match: (event: TaskStateChanged) => boolean,
  what: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<TaskStateChanged> {
  const signal = AbortSignal.timeout(timeoutMs);
  const seen: string[] = [];
  try {
    for await (const { event } of clients.runs.watchRun(
      { runId },
      { signal },
    )) {
      if (event?.kind.case !== "taskStateChanged") continue;
      const change = event.kind.value;
      seen.push(`${change.taskId}:${TaskState[change.state]}`);
      if (match(change)) return change;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  throw new Error(
    `run ${runId}: ${what} did not happen within ${timeoutMs} ms ` +
      `(or the run ended first); events: ${seen.slice(-20).join(" ")}`,
  );
}

/** Waits for a task to reach `state` (in its attempt `attempt`, if set). */
export function waitForTaskState(
  clients: ApiClients,
  runId: string,
  taskId: string,
  state: TaskState,
  attempt?: number,
): Promise<TaskStateChanged> {
  return waitForTaskEvent(
    clients,
    runId,
    (e) =>
      e.taskId === taskId &&
      e.state === state &&
      (attempt === undefined || e.attempt === attempt),
    `task ${taskId} reaching ${TaskState[state]}` +
      (attempt === undefined ? "" : ` in attempt ${attempt}`),
  );
}

/**
 * Follows WatchRun to the run's end and returns the whole run; fails
 * clearly when it has not ended in time.
 */
export async function waitForRunEnd(
  clients: ApiClients,
  runId: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Run> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for await (const _ of clients.runs.watchRun({ runId }, { signal })) {
      // The stream ends with the run's final state.
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  const { run } = await clients.runs.getRun({ runId });
  if (!run) throw new Error(`run ${runId} not found`);
  if (signal.aborted && !isEnded(run.state)) {
    const states = run.tasks.map((t) => `${t.id}:${TaskState[t.state]}`);
    throw new Error(
      `run ${runId} did not end within ${timeoutMs} ms: ` +
        `${RunState[run.state]}; ${states.slice(0, 30).join(" ")}`,
    );
  }
  return run;
}

function isEnded(state: RunState): boolean {
  return (
    state === RunState.SUCCESS ||
    state === RunState.FAILED ||
    state === RunState.CANCELLED
  );
}
