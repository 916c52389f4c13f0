import { type SQL, sql } from "drizzle-orm";
import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import { referencedTasks } from "../../workflow/index.js";
import { type Db, rowsOf } from "../db/index.js";
import { appendRunEventsFrom } from "../events/append-run-events.js";
import { scopedTaskId } from "../scheduler/task-groups.js";
import {
  loadFacts,
  type TaskFacts,
  templateContext,
} from "../scheduler/template-facts.js";
import { affinityHolds } from "./affinity-holds.js";

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

/** A granted lease and what the agent needs to run its attempt. */
export interface ClaimedAssignment {
  leaseId: string;
  fencingToken: number;
  runId: string;
  taskId: string;
  attempt: number;
  type: string;
  config: JsonObject;
  context: JsonObject;
  env: Record<string, string>;
  timeoutMs: number;
  /** "kill" or "keep_running" (SPEC §4). */
  onAgentDisconnect: string;
  /** The lease's lifetime without renewal. */
  leaseTtlMs: number;
  /** The task's `secrets` block as stored; resolved before delivery. */
  secretsBlock?: JsonObject | undefined;
  /**
   * The task's secret values, set after the claim (AssignmentSecrets) and
   * sent only in the Assignment; never stored.
   */
  secrets?: Record<string, string> | undefined;
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
}

/** A task assigned by a claim, with its lease and what its run tells templates. */
interface GrantedRow {
  lease_id: string;
  run_id: string;
  task_id: string;
  type: string;
  spec: JsonObject;
  attempt: number;
  fencing_token: number | string;
  ttl_ms: number;
  workflow_name: string;
  params: JsonObject;
  /** The run's start in milliseconds since the epoch, or null. */
  started_at_ms: number | string | null;
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
  if (options.limit <= 0 || agent.taskTypes.length === 0) {
    return {
      assignments: [],
      ranDry: agent.taskTypes.length === 0,
      queueEmpty: false,
    };
  }
  // The planner's settings, then the claim; the settings apply first.
  const [, read] = await Promise.all([
    readQueueInIndexOrder(tx),
    tx.execute(sql`
      WITH fit AS MATERIALIZED (
        SELECT run_id, task_id,
          (SELECT r.concurrency FROM runs r WHERE r.id = tasks.run_id)
            AS concurrency
        FROM tasks
        WHERE state = 'QUEUED'
          AND type = ANY(${sql.param([...agent.taskTypes])}::text[])
          AND node_selector <@ ${JSON.stringify(agent.labels)}::jsonb
          AND ${affinityHolds(agent.labels)}
          -- Not while a killed attempt of the task may still be running.
          AND NOT EXISTS (
            SELECT 1 FROM leases l
            WHERE l.run_id = tasks.run_id AND l.task_id = tasks.task_id
              AND l.state = 'REVOKED' AND l.stopped_at IS NULL
              AND l.expires_at > ${options.now.toISOString()}::timestamptz)
          -- Not of a run at its concurrency: its tasks would fill the
          -- limit, only to be dropped, and hide other runs' behind them.
          AND NOT EXISTS (
            SELECT 1 FROM runs r
            WHERE r.id = tasks.run_id AND r.concurrency IS NOT NULL
              AND r.concurrency <= (
                SELECT count(*) FROM leases l
                WHERE l.run_id = r.id AND l.state IN ('GRANTED', 'ACTIVE')))
        ORDER BY priority DESC NULLS LAST, queued_at, run_id, task_id
        LIMIT ${options.limit}
        FOR UPDATE SKIP LOCKED
      ),
      ${assignAndLease(
        agent.agentId,
        sql`SELECT run_id, task_id FROM fit WHERE concurrency IS NULL`,
        options,
      )}
      SELECT 'granted' AS kind, granted_rows.*, NULL::int AS concurrency
      FROM granted_rows
      UNION ALL
      SELECT 'candidate', NULL, run_id, task_id,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, concurrency
      FROM fit WHERE concurrency IS NOT NULL
      UNION ALL
      -- One more row when the queue holds nothing but what this claim
      -- found: then every agent's claim would come back empty. Asked
      -- only of a claim that found fewer than it could take.
      SELECT 'dry', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL
      WHERE (SELECT count(*) FROM fit) < ${options.limit} AND NOT EXISTS (
        SELECT 1 FROM tasks q
        WHERE q.state = 'QUEUED' AND NOT EXISTS (
          SELECT 1 FROM fit
          WHERE fit.run_id = q.run_id AND fit.task_id = q.task_id))`),
  ]);
  const rows = rowsOf<ClaimRow>(read);
  const granted: GrantedRow[] = rows.filter((r) => r.kind === "granted");
  const limited = rows.filter((r) => r.kind === "candidate") as Candidate[];
  const found = granted.length + limited.length;
  const picked = await withinRunConcurrency(tx, limited);
  if (picked.length > 0) {
    granted.push(...(await assignPicked(tx, agent.agentId, picked, options)));
  }
  const allTaken = picked.length === limited.length;
  const ranDry = found < options.limit && allTaken;
  const queueEmpty = rows.some((r) => r.kind === "dry") && allTaken;
  return {
    assignments: await buildAssignments(tx, granted, options.now),
    ranDry,
    queueEmpty,
  };
}

type ClaimRow =
  | ({ kind: "granted" } & GrantedRow)
  | ({ kind: "candidate" } & Candidate)
  | { kind: "dry" };

/**
 * WITH items that assign the tasks `source` selects (run_id, task_id) to
 * the agent, grant a lease on each, record its attempt and an ASSIGNED
 * event, and end with `granted_rows`: one {@link GrantedRow} per task.
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
        t.fencing_token
    ),
    granted AS MATERIALIZED (
      SELECT gen_random_uuid() AS lease_id, run_id, task_id, type, spec,
        attempt_count AS attempt, fencing_token,
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
        fencing_token, state, ttl_ms, granted_at, ack_deadline_at, expires_at)
      SELECT lease_id, run_id, task_id, attempt, ${agentId}, fencing_token,
        'GRANTED', ttl_ms, ${at},
        ${at} + ${options.ackDeadlineMs} * interval '1 millisecond',
        ${at} + ttl_ms * interval '1 millisecond'
      FROM granted
    ),
    attempted AS (
      INSERT INTO attempts (run_id, task_id, number, lease_id, fencing_token,
        agent_id, assigned_at)
      SELECT run_id, task_id, attempt, lease_id, fencing_token, ${agentId},
        ${at}
      FROM granted
    ),
    ${appendRunEventsFrom(sql`
      SELECT run_id, task_id, 'ASSIGNED', attempt, ${agentId}, ''
      FROM granted`)},
    granted_rows AS (
      SELECT g.lease_id, g.run_id, g.task_id, g.type, g.spec, g.attempt,
        g.fencing_token, g.ttl_ms, r.workflow_name, r.params,
        extract(epoch FROM r.started_at) * 1000 AS started_at_ms
      FROM granted g
      JOIN runs r ON r.id = g.run_id
      -- Read, so that the events' notifications are sent.
      WHERE (SELECT notified FROM events_notified) IS NOT NULL
    )`;
}

/** Assigns and leases candidates kept within their runs' concurrency. */
async function assignPicked(
  tx: Db,
  agentId: string,
  picked: readonly Candidate[],
  options: ClaimOptions,
): Promise<GrantedRow[]> {
  return rowsOf<GrantedRow>(
    await tx.execute(sql`
      WITH ${assignAndLease(
        agentId,
        sql`SELECT * FROM unnest(
          ${sql.param(picked.map((c) => c.run_id))}::uuid[],
          ${sql.param(picked.map((c) => c.task_id))}::text[]
        ) AS p(run_id, task_id)`,
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
 */
async function readQueueInIndexOrder(tx: Db): Promise<void> {
  await tx.execute(sql`
    SELECT set_config('enable_sort', 'off', true),
      set_config('enable_bitmapscan', 'off', true)`);
}

interface Candidate {
  run_id: string;
  task_id: string;
  /** The run's `concurrency`, or null without one. */
  concurrency: number | null;
}

/**
 * Keeps, of the claimed candidates, only as many of each run as its
 * `concurrency` leaves room for: a run's attempts that hold a lease count
 * against it. Runs with a limit are locked, so two replicas claiming at
 * once cannot both fill the last slot; a run locked elsewhere (it is
 * advancing, or another claim counts it) gets nothing this time, rather
 * than waiting while this claim holds task rows the other may need.
 */
async function withinRunConcurrency(
  tx: Db,
  candidates: readonly Candidate[],
): Promise<Candidate[]> {
  const limited = [
    ...new Set(
      candidates.filter((c) => c.concurrency !== null).map((c) => c.run_id),
    ),
  ].sort();
  if (limited.length === 0) return [...candidates];
  const held = rowsOf<{ run_id: string; held: number }>(
    await tx.execute(sql`
      WITH locked AS (
        SELECT id FROM runs WHERE id = ANY(${sql.param(limited)}::uuid[])
        ORDER BY id FOR UPDATE SKIP LOCKED
      )
      SELECT locked.id AS run_id, (
        SELECT count(*)::int FROM leases l
        WHERE l.run_id = locked.id AND l.state IN ('GRANTED', 'ACTIVE')
      ) AS held
      FROM locked`),
  );
  const room = new Map<string, number>();
  for (const c of candidates) {
    if (c.concurrency === null || room.has(c.run_id)) continue;
    const locked = held.find((h) => h.run_id === c.run_id);
    room.set(c.run_id, locked ? c.concurrency - locked.held : 0);
  }
  return candidates.filter((c) => {
    const left = room.get(c.run_id);
    if (left === undefined) return true;
    room.set(c.run_id, left - 1);
    return left > 0;
  });
}

/**
 * Adds to each lease the values its templates read: the run's came with
 * the claim; other tasks' states and outputs are read only when a
 * template names them.
 */
async function buildAssignments(
  tx: Db,
  granted: readonly GrantedRow[],
  now: Date,
): Promise<ClaimedAssignment[]> {
  const reads = new Map(
    granted.map((g) => {
      const local = templateReads(configOf(g));
      const ids = [...local].map((id) => scopedTaskId(g.spec, id));
      return [g, ids] as const;
    }),
  );
  const factsByRun = await loadFactsByRun(tx, reads);
  return granted.map((g) => {
    const { spec } = g;
    const runFacts = factsByRun.get(g.run_id);
    const own = (reads.get(g) ?? []).flatMap((id) => {
      const fact = runFacts?.get(id);
      return fact ? [[id, fact] as const] : [];
    });
    const startedAt = g.started_at_ms === null ? null : Number(g.started_at_ms);
    const context = templateContext(
      {
        id: g.run_id,
        workflowName: g.workflow_name,
        params: g.params,
        startedAt: startedAt === null ? null : new Date(startedAt),
      },
      g.task_id,
      g.attempt,
      new Map(own),
      now,
      { spec },
    );
    return {
      leaseId: g.lease_id,
      fencingToken: Number(g.fencing_token),
      runId: g.run_id,
      taskId: g.task_id,
      attempt: g.attempt,
      type: g.type,
      config: configOf(g),
      context: context as unknown as JsonObject,
      env: (spec.env ?? {}) as Record<string, string>,
      // Whole milliseconds, never shorter than asked (the wire's int32).
      timeoutMs:
        typeof spec.timeout === "number" ? Math.ceil(spec.timeout * 1000) : 0,
      onAgentDisconnect: String(spec.on_agent_disconnect ?? "kill"),
      leaseTtlMs: g.ttl_ms,
      secretsBlock: spec.secrets as JsonObject | undefined,
    };
  });
}

function configOf(g: GrantedRow): JsonObject {
  return (g.spec.config ?? {}) as JsonObject;
}

/**
 * What the claimed tasks' templates read: one query per run that has
 * any, pipelined; none at all when no template names another task.
 */
async function loadFactsByRun(
  tx: Db,
  reads: ReadonlyMap<GrantedRow, readonly string[]>,
): Promise<Map<string, Map<string, TaskFacts>>> {
  const idsByRun = new Map<string, Set<string>>();
  for (const [g, ids] of reads) {
    if (ids.length === 0) continue;
    const wanted = idsByRun.get(g.run_id) ?? new Set<string>();
    for (const id of ids) wanted.add(id);
    idsByRun.set(g.run_id, wanted);
  }
  const wanted = [...idsByRun];
  const facts = await Promise.all(
    wanted.map(([runId, ids]) => loadFacts(tx, runId, [...ids])),
  );
  return new Map(wanted.map(([runId], i) => [runId, facts[i] ?? new Map()]));
}

/** Task ids that any template string in a config reads. */
function templateReads(value: JsonValue, into = new Set<string>()) {
  if (typeof value === "string") {
    if (value.includes("${")) {
      for (const id of referencedTasks(value)) into.add(id);
    }
  } else if (Array.isArray(value)) {
    for (const item of value) templateReads(item, into);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) templateReads(item, into);
  }
  return into;
}
