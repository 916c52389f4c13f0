import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { eq } from "drizzle-orm";
import type { Logger } from "../../core/index.js";
import {
  type WatchRunResponse,
  WatchRunResponseSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import { type Db, runs } from "../db/index.js";
import { settledEventFrontier } from "../events/event-frontier.js";
import { eventPage, runChangedAfter } from "../events/read-run-events.js";
import type { RunEventHub } from "../events/run-event-hub.js";
import { toRunEvent } from "../runs/run-view.js";
import { requireUuid } from "./connect-errors.js";

/** What WatchRun reads its events from. */
export interface WatchRunDeps {
  db: Db;
  /** Wakes the watch when the run has new events. */
  hub: RunEventHub;
  /** Where it says it went on past a writer left open. */
  logger?: Logger | undefined;
}

const TERMINAL_RUN_EVENTS = new Set(["SUCCESS", "FAILED", "CANCELLED"]);

/**
 * WatchRun: streams a run's events after `afterSequence`, waiting for
 * new ones, until the run ends (and is not retried after) or the call is
 * cut short.
 */
export async function* watchRun(
  deps: WatchRunDeps,
  rawRunId: string,
  afterSequence: number,
  ctx: HandlerContext,
): AsyncIterable<WatchRunResponse> {
  const runId = requireUuid("run_id", rawRunId);
  const subscription = deps.hub.subscribe(runId);
  try {
    // Read before the first frontier: if the run had ended, its last
    // event is within that frontier.
    const [run] = await deps.db
      .select({ state: runs.state })
      .from(runs)
      .where(eq(runs.id, runId));
    if (!run) throw new ConnectError(`run ${runId} not found`, Code.NotFound);
    let endedBefore = TERMINAL_RUN_EVENTS.has(run.state);
    let after = afterSequence;
    let waited = false;
    while (!ctx.signal.aborted) {
      // Woken after an empty page: the run may have ended at or before
      // `after`, where no page will show it. Read before the frontier,
      // as above.
      if (waited) endedBefore = await runHasEnded(deps.db, runId);
      // Only as far as every event is final: one numbered lower may
      // still commit after those read (settledEventFrontier).
      const upTo = await settledEventFrontier(deps.db, ctx.signal, {
        logger: deps.logger,
      }).catch((error: unknown) => {
        if (ctx.signal.aborted) return undefined;
        throw error;
      });
      if (upTo === undefined) break;
      const rows = await eventPage(deps.db, runId, after, upTo);
      for (const row of rows) {
        yield create(WatchRunResponseSchema, { event: toRunEvent(row) });
        after = row.sequence;
        if (
          row.taskId === "" &&
          TERMINAL_RUN_EVENTS.has(row.state) &&
          !(await runChangedAfter(deps.db, runId, row.sequence))
        ) {
          return;
        }
      }
      // A run that had ended, watched from past its last event: the
      // watch ends, as it would have at that event.
      if (rows.length === 0 && endedBefore) return;
      endedBefore = false;
      waited = rows.length === 0;
      if (waited) await subscription.changed(ctx.signal);
    }
    // Cut short by its deadline, a shutdown or the caller leaving: end
    // with that error, not as a watch whose run has ended would.
    throw cutShort(ctx.signal.reason);
  } finally {
    subscription.close();
  }
}

/** Whether the run is in a state it ends in. */
async function runHasEnded(db: Db, runId: string): Promise<boolean> {
  const [run] = await db
    .select({ state: runs.state })
    .from(runs)
    .where(eq(runs.id, runId));
  return run !== undefined && TERMINAL_RUN_EVENTS.has(run.state);
}

/**
 * The error a watch cut short ends with: its call's own (a deadline, a
 * cancel), or Unavailable. Never Internal: the transport says so of a
 * stream the caller reset, which is not our fault to log.
 */
function cutShort(reason: unknown): ConnectError {
  const error = ConnectError.from(reason, Code.Unavailable);
  if (error.code !== Code.Internal) return error;
  return new ConnectError(
    error.rawMessage,
    Code.Unavailable,
    undefined,
    undefined,
    reason,
  );
}
