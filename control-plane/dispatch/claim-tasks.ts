import { type SQL, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";
import { appendRunEventsFrom } from "../events/append-run-events.js";
import { Pipelined } from "../scheduler/pipelined.js";
import { affinityHolds } from "./affinity-holds.js";
import { agentRoomItem, requestFits } from "./agent-resources.js";
import { assignableNow } from "./assignable-now.js";
import {
  buildAssignments,
  type ClaimedAssignment,
  type GrantedRow,
} from "./build-assignments.js";
import {
  type Candidate,
  type PickedCandidate,
  pickCandidates,
} from "./pick-candidates.js";
import {
  heldForWaitingRequest,
  waitingRequestItem,
} from "./waiting-request.js";

export type { ClaimedAssignment } from "./build-assignments.js";

/** The agent a claim is made for: what it provides and how it is labelled. */
export interface ClaimingAgent {
  agentId: string;
  taskTypes: readonly string[];
  labels: Readonly<Record<string, string>>;
}

export interface ClaimOptions {
  /** At most this many tasks (the agent's free slots). */
  limit: number;
  leaseTtlMs: number;
  ackDeadlineMs: number;
  now: Date;
}

/** What one claim got, and whether the queue has more for the agent. */
export interface Claim {
  assignments: ClaimedAssignment[];
  /**
   * The queue held fewer tasks that fit the agent than it asked for, and
   * no run's concurrency held one back: until more tasks are queued, a
   * claim for it would find nothing. (Tasks another claimer had locked
   * are not seen; they are its to take or to give back.)
   */
  ranDry: boolean;
  /**
   * Nothing else is queued at all (beyond what this claim took, and
   * tasks another claimer had locked count as queued): no agent's claim
   * would find anything until more tasks are queued.
   */
  queueEmpty: boolean;
  /**
   * It found fewer than it asked for and passed over queued tasks that
   * fit the agent but not its free resources: until its attempts free
   * some, or more tasks are queued, a claim for it would find nothing.
   */
  waitsForRoom: boolean;
}

/**
 * Claims queued tasks that fit one agent and grants a lease on each.
 *
 * Highest priority first, then oldest. `FOR UPDATE SKIP LOCKED` lets
 * replicas claim side by side without waiting on or taking each other's
 * rows; `node_selector <@ labels` matches selectors, and
 * {@link affinityHolds} affinity, in the index scan, so a claim never
 * locks a task the agent cannot run.
 *
 * Tasks of runs without a `concurrency` are assigned, leased and
 * recorded by the statement that finds them: one round trip for the
 * whole claim. Tasks of runs with one come back as candidates, and are
 * assigned by a second statement once their runs' room is counted.
 */
export async function claimTasks(
  tx: Db,
  agent: ClaimingAgent,
  options: ClaimOptions,
): Promise<Claim> {
  const writes = new Pipelined();
  const answer = await writes.around(() =>
    sendClaim(tx, agent, options, writes),
  );
  const picked = await pickCandidates(
    tx,
    agent.agentId,
    answer.candidates,
    options.now,
  );
  if (picked.length > 0) {
    answer.granted.push(
      ...(await assignPicked(tx, agent.agentId, picked, options)),
    );
  }
  return {
    assignments: await buildAssignments(tx, answer.granted, options.now),
    ...dryness(answer, picked.length, options.limit),
  };
}

/** A claim's statement, answered: what it took and what it left. */
export interface ClaimAnswer {
  /** Tasks assigned and leased. */
  granted: GrantedRow[];
  /**
   * Tasks of runs with a `concurrency`, or that ask for resources: found
   * but not assigned.
   */
  candidates: Candidate[];
  /** Nothing is queued beyond what the claim found. */
  dry: boolean;
  /**
   * The claim passed over queued tasks that fit the agent but not its
   * free resources: it may find them once its attempts free some.
   */
  short: boolean;
  now: Date;
}

/**
 * Sends a claim's statements on `writes`, in order behind what was sent
 * on it before, without waiting for their answer: a claim can be a
 * transaction's last statement, the caller committing at once, COMMIT
 * sharing the claim's round trip, and build the assignments after
 * ({@link completeClaim}). The candidates it answers are not assigned:
 * counting their runs' room would take statements after the answer.
 */
export function sendClaim(
  tx: Db,
  agent: ClaimingAgent,
  options: ClaimOptions,
  writes: Pipelined,
): Promise<ClaimAnswer> {
  if (options.limit <= 0 || agent.taskTypes.length === 0) {
    return Promise.resolve({
      granted: [],
      candidates: [],
      // Nothing was read of the queue.
      dry: false,
      short: false,
      now: options.now,
    });
  }
  // The planner's settings, then the claim; the settings apply first.
  writes.send(tx.execute(readQueueInIndexOrder));
  return writes.ask(tx.execute(claimStatement(agent, options))).then((read) => {
    const rows = rowsOf<ClaimRow>(read);
    return {
      granted: rows.filter((r) => r.kind === "granted"),
      candidates: rows.filter((r) => r.kind === "candidate") as Candidate[],
      dry: rows.some((r) => r.kind === "dry"),
      short: rows.some((r) => r.kind === "short"),
      now: options.now,
    };
  });
}

/**
 * The claim a {@link sendClaim} answer makes, once its transaction has
 * committed: the assignments are built with `db`, whose reads (outputs
 * of other tasks that templates name) see what the transaction wrote.
 */
export async function completeClaim(
  db: Db,
  answer: ClaimAnswer,
  limit: number,
): Promise<Claim> {
  return {
    assignments: await buildAssignments(db, answer.granted, answer.now),
    ...dryness(answer, 0, limit),
  };
}

/** How dry a claim ran, once `picked` of its candidates were taken. */
function dryness(
  answer: ClaimAnswer,
  picked: number,
  limit: number,
): Pick<Claim, "ranDry" | "queueEmpty" | "waitsForRoom"> {
  const allTaken = picked === answer.candidates.length;
  const found = answer.granted.length + answer.candidates.length;
  return {
    ranDry: found < limit && allTaken && !answer.short,
    queueEmpty: answer.dry && allTaken,
    waitsForRoom: found < limit && allTaken && answer.short,
  };
}

function claimStatement(agent: ClaimingAgent, options: ClaimOptions): SQL {
  const fits = sql`
          type = ANY(${sql.param([...agent.taskTypes])}::text[])
          AND node_selector <@ ${JSON.stringify(agent.labels)}::jsonb
          AND ${affinityHolds(agent.labels)}`;
  return sql`
      WITH ${agentRoomItem(agent.agentId, options.now)},
      ${waitingRequestItem(fits, options.now)},
      fit AS MATERIALIZED (
        SELECT run_id, task_id, requests,
          (SELECT r.concurrency FROM runs r WHERE r.id = tasks.run_id)
            AS concurrency
        FROM tasks
        WHERE state = 'QUEUED' AND ${fits}
          -- Only what the agent has free: a task that does not fit now,
          -- locked and dropped, would hide the tasks behind it; and not
          -- what a request ahead of it waits for. Read only for a task
          -- that asks for resources.
          AND (requests IS NULL
            OR (${requestFits("free")} AND NOT ${heldForWaitingRequest}))
          -- Not while a killed attempt of it may still run, nor of a run
          -- at its concurrency.
          AND ${assignableNow(options.now)}
        ORDER BY priority DESC NULLS LAST, queued_at, run_id, task_id
        LIMIT ${options.limit}
        FOR UPDATE SKIP LOCKED
      ),
      ${assignAndLease(
        agent.agentId,
        sql`SELECT run_id, task_id, NULL::jsonb AS resources FROM fit
          WHERE concurrency IS NULL AND requests IS NULL`,
        options,
      )}
      SELECT 'granted' AS kind, granted_rows.*, NULL::int AS concurrency,
        NULL::jsonb AS requests
      FROM granted_rows
      UNION ALL
      SELECT 'candidate', NULL, run_id, task_id, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, concurrency, requests
      FROM fit WHERE concurrency IS NOT NULL OR requests IS NOT NULL
      UNION ALL
      -- One more row when the queue holds nothing but what this claim
      -- found: then every agent's claim would come back empty. Asked
      -- only of a claim that found fewer than it could take. What it
      -- found is queued in this statement's snapshot too, so counting
      -- is enough, and the count stops one past the limit: an anti-join
      -- of the queue against fit ran for every claim (PostgreSQL checked
      -- it before the count) and took a quarter of a full claim's time.
      SELECT 'dry', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL
      WHERE CASE WHEN (SELECT count(*) FROM fit) < ${options.limit}
        THEN (SELECT count(*) FROM (
            SELECT 1 FROM tasks q WHERE q.state = 'QUEUED'
            LIMIT ${options.limit} + 1) AS queued)
          <= (SELECT count(*) FROM fit)
        ELSE false END
      UNION ALL
      -- And one when a claim that found fewer than it could take passed
      -- over tasks the agent could run but has not the free resources
      -- for now (see waiting-request.ts): it is not dry, and agents like
      -- it may have them.
      SELECT 'short', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL
      WHERE (SELECT count(*) FROM fit) < ${options.limit}
        AND EXISTS (SELECT 1 FROM waiting_request)`;
}

type ClaimRow =
  | ({ kind: "granted" } & GrantedRow)
  | ({ kind: "candidate" } & Candidate)
  | { kind: "dry" }
  | { kind: "short" };

/**
 * WITH items that assign the tasks `source` selects (run_id, task_id,
 * and the resources allocated to each or null) to the agent, grant a
 * lease on each, record its attempt and an ASSIGNED event, and end with
 * `granted_rows`: one {@link GrantedRow} per task.
 * The tasks must be QUEUED and locked by this transaction.
 */
function assignAndLease(agentId: string, source: SQL, options: ClaimOptions) {
  const at = sql`${options.now.toISOString()}::timestamptz`;
  return sql`
    assigned AS (
      UPDATE tasks t
      SET state = 'ASSIGNED',
          attempt_count = t.attempt_count + 1,
          fencing_token = t.fencing_token + 1,
          agent_id = ${agentId},
          error = ''
      FROM (${source}) AS chosen
      WHERE t.run_id = chosen.run_id AND t.task_id = chosen.task_id
      RETURNING t.run_id, t.task_id, t.type, t.spec, t.attempt_count,
        t.fencing_token, chosen.resources
    ),
    granted AS MATERIALIZED (
      SELECT gen_random_uuid() AS lease_id, run_id, task_id, type, spec,
        attempt_count AS attempt, fencing_token, resources,
        -- A keep_running task's lease lives for its lost_after.
        CASE WHEN spec->>'on_agent_disconnect' = 'keep_running'
            AND jsonb_typeof(spec->'lost_after') = 'number'
          THEN ceil((spec->>'lost_after')::numeric * 1000)::int
          ELSE ${options.leaseTtlMs}::int
        END AS ttl_ms
      FROM assigned
    ),
    leased AS (
      INSERT INTO leases (id, run_id, task_id, attempt, agent_id,
        fencing_token, state, ttl_ms, granted_at, ack_deadline_at, expires_at,
        resources)
      SELECT lease_id, run_id, task_id, attempt, ${agentId}, fencing_token,
        'GRANTED', ttl_ms, ${at},
        ${at} + ${options.ackDeadlineMs} * interval '1 millisecond',
        ${at} + ttl_ms * interval '1 millisecond', resources
      FROM granted
    ),
    attempted AS (
      INSERT INTO attempts (run_id, task_id, number, lease_id, fencing_token,
        agent_id, assigned_at, resources)
      SELECT run_id, task_id, attempt, lease_id, fencing_token, ${agentId},
        ${at}, resources
      FROM granted
    ),
    ${appendRunEventsFrom(sql`
      SELECT run_id, task_id, 'ASSIGNED', attempt, ${agentId}, '', 0
      FROM granted`)},
    granted_rows AS (
      SELECT g.lease_id, g.run_id, g.task_id, g.type, g.spec, g.attempt,
        g.fencing_token, g.ttl_ms, r.workflow_name, r.params,
        extract(epoch FROM r.started_at) * 1000 AS started_at_ms,
        g.resources
      FROM granted g
      JOIN runs r ON r.id = g.run_id
      -- Read, so that the events' notifications are sent.
      WHERE (SELECT notified FROM events_notified) IS NOT NULL
    )`;
}

/** Assigns and leases the candidates picked, with their allocations. */
async function assignPicked(
  tx: Db,
  agentId: string,
  picked: readonly PickedCandidate[],
  options: ClaimOptions,
): Promise<GrantedRow[]> {
  return rowsOf<GrantedRow>(
    await tx.execute(sql`
      WITH ${assignAndLease(
        agentId,
        sql`SELECT run_id, task_id,
            nullif(resources::jsonb, 'null'::jsonb) AS resources
          FROM unnest(
            ${sql.param(picked.map((c) => c.run_id))}::uuid[],
            ${sql.param(picked.map((c) => c.task_id))}::text[],
            ${sql.param(picked.map((c) => JSON.stringify(c.resources ?? null)))}::text[]
          ) AS p(run_id, task_id, resources)`,
        options,
      )}
      SELECT * FROM granted_rows`),
  );
}

/**
 * Has the planner read the queue through tasks_queued in claim order and
 * stop at the limit. Left to its estimates it does not: it guesses that
 * `node_selector <@ labels` keeps one row in a thousand, so it expects a
 * few rows, reads every queued task with a bitmap scan and sorts them
 * (9 ms a claim with 3,000 queued, growing with the queue, instead of a
 * fraction of a millisecond). For the rest of the claim's transaction only.
 *
 * And no JIT: a sort the claim cannot do without (the waiting request's,
 * of at most 100 rows) then costs 10^10 in the planner's eyes, far past
 * jit_above_cost, and LLVM spent seconds compiling every claim.
 *
 * And its updates and inserts join what it found by key (see
 * db/batch-plans.ts).
 */
const readQueueInIndexOrder = sql`
  SELECT set_config('enable_sort', 'off', true),
    set_config('enable_bitmapscan', 'off', true),
    set_config('jit', 'off', true),
    set_config('enable_hashjoin', 'off', true),
    set_config('enable_mergejoin', 'off', true)`;
