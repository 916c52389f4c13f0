import { setTimeout as sleep } from "node:timers/promises";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { Run, RunEvent, RunService } from "../gen/deerflow/v1/run_pb.js";
import { isFinalRunState } from "./run-states.js";
import { SdkError } from "./sdk-error.js";

/** Options of {@link waitForRun}. */
export interface WaitForRunOptions {
  /** Stops waiting; the call then fails with Code.Canceled. */
  signal?: AbortSignal;
  /** Sees every event of the run, from the start of its history. */
  onEvent?: (event: RunEvent) => void;
  /**
   * First pause before following again after the stream dropped
   * (Unavailable) or ended before the run did; doubles up to 5000 ms.
   * Default 250 ms.
   */
  reconnectDelayMs?: number;
}

const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * Follows WatchRun until the run ends and returns the final run (with
 * its tasks, as GetRun reads it). A dropped stream is followed again
 * from the last event seen, so a restarted control plane or a replica
 * that goes away does not end the wait; only the signal does.
 */
export async function waitForRun(
  runs: Client<typeof RunService>,
  runId: string,
  options: WaitForRunOptions = {},
): Promise<Run> {
  const { signal, onEvent } = options;
  let delayMs = options.reconnectDelayMs ?? 250;
  let after = 0n;
  for (;;) {
    try {
      const events = runs.watchRun({ runId, afterSequence: after }, { signal });
      for await (const { event } of events) {
        if (!event) continue;
        after = event.sequence;
        onEvent?.(event);
      }
      const { run } = await runs.getRun({ runId }, { signal });
      if (!run) throw new SdkError("run_not_found", `run ${runId} not found`);
      if (isFinalRunState(run.state)) return run;
    } catch (error) {
      if (signal?.aborted || !isTransient(error)) throw error;
    }
    await pause(delayMs, signal);
    delayMs = Math.min(delayMs * 2, MAX_RECONNECT_DELAY_MS);
  }
}

function isTransient(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Unavailable;
}

async function pause(ms: number, signal: AbortSignal | undefined) {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw new ConnectError(
      "waitForRun was aborted",
      Code.Canceled,
      undefined,
      undefined,
      signal?.reason ?? error,
    );
  }
}
