import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { ApiClients } from "../../cli/api-clients.js";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";

/** One stored event of a run, as WatchRun replays it. */
export interface RecordedEvent {
  /** Empty for the run's own state. */
  taskId: string;
  /** The state's name without prefix: "QUEUED", "RUNNING", "SUCCESS". */
  state: string;
  attempt: number;
  agentId: string;
  /** The stored time, in epoch milliseconds. */
  atMs: number;
}

/** Epoch milliseconds of a protobuf Timestamp. */
export function timestampMs(ts: Timestamp | undefined): number {
  if (!ts) return Number.NaN;
  return Number(ts.seconds) * 1000 + ts.nanos / 1e6;
}

/**
 * Replays a finished run's stored history through WatchRun (the stream
 * ends with the run). Latencies are computed from these stored times,
 * not from what the harness saw, so polling adds nothing to them.
 */
export async function readRunEvents(
  clients: ApiClients,
  runId: string,
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const { event } of clients.runs.watchRun({ runId })) {
    if (!event) continue;
    const atMs = timestampMs(event.time);
    if (event.kind.case === "taskStateChanged") {
      const v = event.kind.value;
      events.push({
        taskId: v.taskId,
        state: TaskState[v.state],
        attempt: v.attempt,
        agentId: v.agentId,
        atMs,
      });
    } else if (event.kind.case === "runStateChanged") {
      events.push({
        taskId: "",
        state: RunState[event.kind.value.state],
        attempt: 0,
        agentId: "",
        atMs,
      });
    }
  }
  return events;
}

/** The time of the first event matching, or NaN. */
export function firstTime(
  events: readonly RecordedEvent[],
  taskId: string,
  state: string,
  attempt?: number,
): number {
  const found = events.find(
    (e) =>
      e.taskId === taskId &&
      e.state === state &&
      (attempt === undefined || e.attempt === attempt),
  );
  return found?.atMs ?? Number.NaN;
}
