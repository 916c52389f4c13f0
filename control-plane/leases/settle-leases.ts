import {
  commitFollowsStatements,
  type Db,
  planBatchJoinsByKey,
} from "../db/index.js";
import { holdTaskQueued } from "../events/append-run-events.js";
import { countRecorded } from "../metrics/process-metrics.js";
import { Pipelined } from "../scheduler/pipelined.js";
import {
  acknowledgeIn,
  acknowledgeLeases,
  type LeaseRef,
} from "./acknowledge-lease.js";
import { lockRunsOfLeases } from "./in-one-transaction.js";
import {
  type AttemptResult,
  plainSuccesses,
  type ResultVerdict,
  readHeld,
  recordIn,
  recordResults,
} from "./record-result.js";

/** What one agent's session has to settle at once. */
export interface LeaseBatch {
  acknowledgements: readonly LeaseRef[];
  results: readonly AttemptResult[];
}

/** Per acknowledgement whether its lease is held; per result a verdict. */
export interface SettledBatch {
  held: boolean[];
  verdicts: ResultVerdict[];
  /**
   * The batch was settled in one transaction, `alongside` included, and
   * it committed. False when it fell back to one item at a time.
   */
  together: boolean;
}

/**
 * Acknowledges leases and records results of one agent in one
 * transaction, taking the lock of each run they touch once: a busy agent
 * acknowledges and finishes short tasks in the same breath, and every
 * lock of a run is a wait for the other agents working on it.
 *
 * Acknowledgements go first, so a result that arrived with its own
 * acknowledgement finds the attempt started. If the batch fails as a
 * whole, both halves are retried on their own (and each of those falls
 * back to one item at a time), without `alongside`.
 *
 * `alongside` is the last statement for the same transaction, after a
 * batch whose results queued tasks: the agent's session claims its next
 * tasks there (Dispatcher.handOff). It and the notification that wakes
 * every dispatcher (sent only if tasks are left queued after the claim)
 * go out with COMMIT, in one round trip where the database allows it
 * ({@link commitFollowsStatements}): the claim's answer is read after
 * the commit.
 */
export async function settleLeases(
  db: Db,
  agentId: string,
  batch: LeaseBatch,
  now: Date,
  alongside?: (tx: Db, writes: Pipelined) => void,
): Promise<SettledBatch> {
  const { acknowledgements, results } = batch;
  const leaseIds = [
    ...acknowledgements.map((a) => a.leaseId),
    ...results.map((r) => r.leaseId),
  ];
  if (leaseIds.length === 0) return { held: [], verdicts: [], together: false };
  try {
    const settled = await db.transaction(async (tx) => {
      const hold = alongside ? holdTaskQueued(tx) : undefined;
      // The planner's settings, the runs' locks, then the results' leases
      // and tasks: one round trip, in this order (a pipeline keeps it).
      const [, , leases] = await Promise.all([
        planBatchJoinsByKey(tx),
        lockRunsOfLeases(tx, leaseIds),
        readHeld(tx, results),
      ]);
      // A plain success closes its attempt from GRANTED or ACTIVE alike:
      // its acknowledgement in the same batch adds nothing, and skipping
      // it spares the task, lease and attempt an update each.
      const plain = plainSuccesses(agentId, results, leases);
      const closing = new Map(
        [...plain.keys()].map((r) => [r.leaseId, r.fencingToken]),
      );
      const closes = (ref: LeaseRef) =>
        closing.get(ref.leaseId) === ref.fencingToken;
      // The remaining acknowledgements go first, so a result that came
      // with its own finds the attempt started; the results' statements
      // follow in the same round trip.
      const pipeline = new Pipelined();
      const acknowledged = pipeline.ask(
        acknowledgeIn(
          tx,
          agentId,
          acknowledgements.filter((ref) => !closes(ref)),
          now,
          pipeline,
        ),
      );
      const verdicts = await pipeline.before(() =>
        recordIn(tx, agentId, results, now, plain, pipeline),
      );
      // Only for tasks these results queued: a claim from the queue at
      // large is the dispatcher's, outside the runs' locks held here.
      // It goes out behind the advances' writes, in their round trip.
      const claimed = alongside !== undefined && hold?.asked === true;
      if (claimed) alongside(tx, pipeline);
      hold?.release(pipeline, claimed);
      const written = pipeline.done();
      if (!commitFollowsStatements(db)) await written;
      // Otherwise the commit follows, and fails if a statement did.
      else written.catch(() => {});
      return { verdicts, acknowledged, written, closes };
    });
    await settled.written;
    countRecorded(results, settled.verdicts);
    const heldLeft = await settled.acknowledged;
    let next = 0;
    const held = acknowledgements.map(
      (ref) => settled.closes(ref) || (heldLeft[next++] ?? false),
    );
    return { held, verdicts: settled.verdicts, together: true };
  } catch {
    return {
      held: await acknowledgeLeases(db, agentId, acknowledgements, now),
      verdicts: await recordResults(db, agentId, results, now),
      together: false,
    };
  }
}
