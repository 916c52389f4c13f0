import type {
  LeaseRef as LeaseRefMessage,
  Result,
} from "../../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../../gen/deerflow/v1/run_pb.js";
import type { Db } from "../db/index.js";
import type { Dispatcher, DispatchTarget } from "../dispatch/dispatcher.js";
import type { LeaseRef } from "../leases/acknowledge-lease.js";
import type { ResultVerdict } from "../leases/record-result.js";
import { type SettledBatch, settleLeases } from "../leases/settle-leases.js";
import { fromLeaseRef, toAttemptResult } from "./session-messages.js";

/** What settling needs of the session it settles for. */
export interface SettlingSession extends DispatchTarget {
  /** Tells the agent to stop an attempt. */
  cancel(lease: LeaseRef, reason: string): void;
  /** Tells the agent whether its result was recorded. */
  answerResult(lease: LeaseRef, verdict: ResultVerdict): void;
}

/** One session's acknowledgements and results to settle together. */
export interface SessionBatch {
  acknowledgements: readonly LeaseRef[];
  results: readonly Result[];
  /**
   * Slots the agent's results freed since its last credit: a hand-off
   * may fill them before the credit that announces them arrives.
   */
  freedSlots: number;
}

/**
 * Settles acknowledgements and results in one transaction, then answers
 * the agent: a cancel for each acknowledgement of a lease it no longer
 * holds, and a verdict for each result. With results that queue tasks (a
 * chain's next step), the agent's next tasks are claimed in the same
 * transaction and go straight back to it (Dispatcher.handOff).
 */
export async function settleSessionBatch(
  session: SettlingSession,
  deps: { db: Db; dispatcher: Dispatcher },
  batch: SessionBatch,
  now: Date,
): Promise<void> {
  const { acknowledgements, results } = batch;
  if (acknowledgements.length === 0 && results.length === 0) return;
  const recorded = results.map((result) => {
    const ref = fromLeaseRef(result.lease as LeaseRefMessage);
    return { ref, result, recorded: toAttemptResult(result, ref, now) };
  });
  const valid = recorded.flatMap((r) => (r.recorded ? [r.recorded] : []));
  const handOff =
    valid.length > 0
      ? deps.dispatcher.handOff(session, batch.freedSlots)
      : undefined;
  let settled: SettledBatch;
  try {
    settled = await settleLeases(
      deps.db,
      session.agentId,
      { acknowledgements, results: valid },
      now,
      handOff?.send,
    );
  } catch (error) {
    await handOff?.finish(false);
    throw error;
  }
  const { held, verdicts, together } = settled;
  acknowledgements.forEach((ref, i) => {
    if (!held[i]) session.cancel(ref, "stale");
  });
  let next = 0;
  for (const { ref, result, recorded: one } of recorded) {
    const verdict = one
      ? (verdicts[next++] ?? {
          accepted: false as const,
          reason: "not recorded",
        })
      : { accepted: false as const, reason: outcomeProblem(result) };
    session.answerResult(ref, verdict);
  }
  await handOff?.finish(together);
}

/** Why a result's outcome cannot be recorded (toAttemptResult refused it). */
function outcomeProblem(result: Result): string {
  if (result.outcome === AttemptOutcome.UNSPECIFIED) {
    return "result.outcome: must be set";
  }
  return `result.outcome: must be SUCCESS, FAILED, TIMED_OUT, LOST or KILLED, not ${result.outcome}`;
}
