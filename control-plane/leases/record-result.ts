import { and, eq, isNull, sql } from "drizzle-orm";
import { rootCause } from "../../core/index.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { attempts, type Db, leases, rowsOf } from "../db/index.js";
import { notifyTaskQueued } from "../events/append-run-events.js";
import { countRecorded } from "../metrics/process-metrics.js";
import type { Pipelined } from "../scheduler/pipelined.js";
import type { AttemptOutcomeName } from "../scheduler/states.js";
import {
  closeAttempt,
  closeSucceeded,
  type SucceededAttempt,
} from "./close-attempt.js";
import { inOneTransaction } from "./in-one-transaction.js";

/** An attempt's result as an agent reports it. */
export interface AttemptResult {
  leaseId: string;
  fencingToken: number;
  outcome: AttemptOutcomeName;
  exitCode?: number | undefined;
  output?: JsonObject | undefined;
  error: string;
  retryable: boolean;
  retryClass: string;
  retryAfterMs?: number | undefined;
  startedAt?: Date | undefined;
  finishedAt?: Date | undefined;
  /** The agent never started the attempt (it rejected the assignment). */
  requeue?: boolean | undefined;
}

/** Whether the result was recorded; a refused one names why. */
export type ResultVerdict =
  | { accepted: true; duplicate: boolean }
  | { accepted: false; reason: string };

/**
 * Records an attempt's result exactly once, and only from the current
 * holder of its lease. A result the agent resends after a lost
 * acknowledgement is accepted again without being recorded twice.
 */
export async function recordResult(
  db: Db,
  agentId: string,
  result: AttemptResult,
  now: Date,
): Promise<ResultVerdict> {
  const [verdict] = await recordResults(db, agentId, [result], now);
  return verdict ?? { accepted: false, reason: "unknown lease" };
}

/**
 * Records many results of one agent in one transaction (see
 * {@link inOneTransaction}), each as {@link recordResult} would.
 */
export async function recordResults(
  db: Db,
  agentId: string,
  results: readonly AttemptResult[],
  now: Date,
): Promise<ResultVerdict[]> {
  const verdicts = await inOneTransaction<AttemptResult, ResultVerdict>(
    db,
    results,
    (result) => result.leaseId,
    (tx, batch) => recordIn(tx, agentId, batch, now),
    {
      refuse: (_result, error) => ({
        accepted: false,
        reason: `the result could not be stored: ${storeError(error)}`,
      }),
    },
  );
  countRecorded(results, verdicts);
  return verdicts;
}

/** PostgreSQL's own words for a refused value, without the statement. */
function storeError(error: Error): string {
  return rootCause(error).message;
}

/** A result's lease and task, read once for the whole batch. */
export interface Held {
  id: string;
  run_id: string;
  task_id: string;
  attempt: number;
  agent_id: string;
  fencing_token: number | string;
  state: string;
  /** Whether the task still waits for this attempt's end. */
  task_leased: boolean;
  dynamic: boolean;
}

/**
 * Plain successes, the bulk of any busy batch, are closed together
 * (closeSucceeded: a few statements for the batch, one advance per run).
 * Everything else (failures, refusals, duplicates, dynamic tasks) takes
 * the careful path one by one. The runs are locked already
 * (inOneTransaction). `plain` is {@link plainSuccesses} of these
 * results, when the caller found them already; with a `pipeline`, the
 * plain successes' writes are sent on it and the caller collects them.
 */
export async function recordIn(
  tx: Db,
  agentId: string,
  results: readonly AttemptResult[],
  now: Date,
  plain?: Map<AttemptResult, SucceededAttempt>,
  pipeline?: Pipelined,
): Promise<ResultVerdict[]> {
  if (results.length === 0) return [];
  plain ??= plainSuccesses(agentId, results, await readHeld(tx, results));
  const verdicts = new Map<AttemptResult, ResultVerdict>();
  for (const result of plain.keys()) {
    verdicts.set(result, { accepted: true, duplicate: false });
  }
  await closeSucceeded(tx, [...plain.values()], now, pipeline);
  const answers: ResultVerdict[] = [];
  for (const result of results) {
    answers.push(
      verdicts.get(result) ?? (await recordOne(tx, agentId, result, now)),
    );
  }
  return answers;
}

/**
 * The plain successes among `results`, as closeSucceeded takes them: a
 * success of a task that is not dynamic, from the lease's holder under
 * its current token, while the task waits for it. A lease's first result
 * in the batch decides, as if each came alone: a success after a failure
 * of the same attempt is a duplicate, not a plain success.
 */
export function plainSuccesses(
  agentId: string,
  results: readonly AttemptResult[],
  held: ReadonlyMap<string, Held>,
): Map<AttemptResult, SucceededAttempt> {
  const plain = new Map<AttemptResult, SucceededAttempt>();
  const seen = new Set<string>();
  for (const result of results) {
    const lease = held.get(result.leaseId);
    const first = !seen.has(result.leaseId);
    seen.add(result.leaseId);
    if (
      lease !== undefined &&
      first &&
      result.outcome === "SUCCESS" &&
      !result.requeue &&
      lease.agent_id === agentId &&
      Number(lease.fencing_token) === result.fencingToken &&
      (lease.state === "GRANTED" || lease.state === "ACTIVE") &&
      lease.task_leased &&
      !lease.dynamic
    ) {
      plain.set(result, {
        lease: {
          id: lease.id,
          runId: lease.run_id,
          taskId: lease.task_id,
          attempt: lease.attempt,
          agentId,
        },
        acknowledged: lease.state === "ACTIVE",
        exitCode: result.exitCode,
        output: result.output,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
      });
    }
  }
  return plain;
}

/**
 * The leases and tasks of results, read without row locks: the caller
 * holds the locks of their runs, and every change to a held lease's
 * state, holder or token, or to its task's state, is made under its
 * run's lock (results, acknowledgements, expiry, kills). Locking the rows
 * as well wrote two row locks a result for nothing.
 */
export async function readHeld(
  tx: Db,
  results: readonly AttemptResult[],
): Promise<Map<string, Held>> {
  if (results.length === 0) return new Map();
  const rows = rowsOf<Held>(
    await tx.execute(sql`
      SELECT l.id, l.run_id, l.task_id, l.attempt, l.agent_id,
        l.fencing_token, l.state,
        t.state IN ('ASSIGNED', 'RUNNING') AS task_leased,
        coalesce(t.spec->'dynamic' = 'true'::jsonb, false) AS dynamic
      FROM leases l
      JOIN tasks t ON t.run_id = l.run_id AND t.task_id = l.task_id
      WHERE l.id = ANY(${sql.param(results.map((r) => r.leaseId))}::uuid[])`),
  );
  return new Map(rows.map((row) => [row.id, row]));
}

async function recordOne(
  tx: Db,
  agentId: string,
  result: AttemptResult,
  now: Date,
): Promise<ResultVerdict> {
  // The lease's run is locked already (inOneTransaction).
  const [lease] = await tx
    .select()
    .from(leases)
    .where(eq(leases.id, result.leaseId))
    .for("update");
  if (!lease) return { accepted: false, reason: "unknown lease" };
  if (lease.agentId !== agentId || lease.fencingToken !== result.fencingToken) {
    return { accepted: false, reason: "stale fencing token" };
  }
  if (lease.state === "RELEASED") {
    // The same result again (an agent resending after a reconnect, a
    // worker retrying its call) is a duplicate; another outcome for an
    // attempt that has ended is refused, not quietly dropped.
    const recorded = await recordedOutcome(tx, lease.id);
    if (recorded === undefined) {
      return { accepted: false, reason: "lease released" };
    }
    return recorded === result.outcome
      ? { accepted: true, duplicate: true }
      : {
          accepted: false,
          reason: `its attempt already ended ${recorded}`,
        };
  }
  if (lease.state === "REVOKED") {
    // A user killed this attempt; the agent's result says it has
    // stopped, so its task may now be handed out again.
    await confirmStopped(tx, lease.id, result.finishedAt ?? now);
    return { accepted: false, reason: "lease revoked" };
  }
  if (lease.state !== "GRANTED" && lease.state !== "ACTIVE") {
    return { accepted: false, reason: `lease ${lease.state.toLowerCase()}` };
  }
  await closeAttempt(tx, lease, toEnd(result), now);
  return { accepted: true, duplicate: false };
}

/** How the lease's attempt ended, if a result was recorded for it. */
async function recordedOutcome(
  tx: Db,
  leaseId: string,
): Promise<AttemptOutcomeName | undefined> {
  const [row] = await tx
    .select({ outcome: attempts.outcome })
    .from(attempts)
    .where(and(eq(attempts.leaseId, leaseId)));
  return row?.outcome ?? undefined;
}

function toEnd(result: AttemptResult) {
  const failed = result.outcome !== "SUCCESS";
  // An attempt the agent killed on its own (drain, lost connection) is
  // retried like a lost lease; a user's kill never reaches here because
  // it revokes the lease first.
  const retryClass =
    result.outcome === "TIMED_OUT"
      ? "timeout"
      : result.outcome === "KILLED"
        ? "lost"
        : result.retryClass || "error";
  return {
    outcome: result.outcome,
    leaseState: "RELEASED" as const,
    exitCode: result.exitCode,
    output: result.output,
    error: result.error,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    requeue: result.requeue,
    failure: failed
      ? {
          retryClass,
          exitCode: result.exitCode,
          retryable: result.retryable,
          retryAfterMs: result.retryAfterMs,
        }
      : undefined,
  };
}

/** Records when a killed attempt really ended, and wakes dispatchers. */
async function confirmStopped(tx: Db, leaseId: string, at: Date) {
  const [stopped] = await tx
    .update(leases)
    .set({ stoppedAt: at })
    .where(and(eq(leases.id, leaseId), isNull(leases.stoppedAt)))
    .returning({ id: leases.id });
  if (!stopped) return;
  await tx
    .update(attempts)
    .set({ finishedAt: at })
    .where(eq(attempts.leaseId, leaseId));
  await notifyTaskQueued(tx);
}
