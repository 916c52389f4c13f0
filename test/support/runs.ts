import type { ApiClients } from "../../cli/api-clients.js";
import type { Run, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";

/** Starts a run of an inline definition; returns its id. */
export async function startInline(
  clients: ApiClients,
  definition: object,
  params: JsonObject = {},
): Promise<string> {
  const { run } = await clients.runs.startRun({
    workflow: {
      case: "definition",
      value: { source: { case: "document", value: definition as JsonObject } },
    },
    params,
  });
  if (!run) throw new Error("StartRun returned no run");
  return run.id;
}

/** Follows WatchRun to the run's end, then reads the whole run. */
export async function waitForRun(
  clients: ApiClients,
  runId: string,
): Promise<Run> {
  for await (const _ of clients.runs.watchRun({ runId })) {
    // The stream ends with the run's final state.
  }
  const { run } = await clients.runs.getRun({ runId });
  if (!run) throw new Error(`run ${runId} not found`);
  return run;
}

export interface TaskEvent {
  sequence: number;
  taskId: string;
  state: TaskState;
  agentId: string;
}

/** The task events of a run's history, in order. */
export async function runEventsOf(
  clients: ApiClients,
  runId: string,
): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for await (const { event } of clients.runs.watchRun({ runId })) {
    if (event?.kind.case === "taskStateChanged") {
      events.push({
        sequence: Number(event.sequence),
        taskId: event.kind.value.taskId,
        state: event.kind.value.state,
        agentId: event.kind.value.agentId,
      });
    }
  }
  return events;
}

/**
 * A one-task workflow whose first attempt runs until it is killed (its
 * agent dies, or loses its lease) and whose later attempts finish at
 * once, each writing `attempt=N` to its output.
 */
export function firstAttemptHangs(name: string) {
  return {
    name,
    tasks: [
      {
        id: "work",
        type: "shell",
        command:
          "if [ ${task.attempt} -eq 1 ]; then sleep 600; fi; " +
          'echo "attempt=${task.attempt}" >> "$DEERFLOW_OUTPUT"',
        retry: { max_attempts: 3, initial_delay: 0 },
      },
    ],
  };
}
