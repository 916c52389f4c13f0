import { randomUUID } from "node:crypto";
import { inArray, sql } from "drizzle-orm";
import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import { referencedTasks } from "../../workflow/index.js";
import { type Db, rowsOf, runs } from "../db/index.js";
import { appendRunEventsFrom } from "../events/append-run-events.js";
import { scopedTaskId } from "../scheduler/task-groups.js";
import { loadFacts, templateContext } from "../scheduler/template-facts.js";
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

interface ClaimedRow {
  run_id: string;
  task_id: string;
  type: string;
  spec: JsonObject;
  attempt_count: number;
  fencing_token: number | string;
}

/**
 * Claims queued tasks that fit one agent and grants a lease on each.
 *
 * Highest priority first, then oldest. `FOR UPDATE SKIP LOCKED` lets
 * replicas claim side by side without waiting on or taking each other's
 * rows; `node_selector <@ labels` matches selectors, and
 * {@link affinityHolds} affinity, in the index scan, so a claim never
 * locks a task the agent cannot run.
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
  // The planner's settings and the candidates, and one more row (null
  // ids) when the queue holds nothing but them: then every agent's claim
  // would come back empty. One round trip; the settings apply first.
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
      )
      SELECT run_id, task_id, concurrency FROM fit
      UNION ALL
      SELECT NULL, NULL, NULL
      -- Asked only of a claim that found fewer than it could take.
      WHERE (SELECT count(*) FROM fit) < ${options.limit} AND NOT EXISTS (
        SELECT 1 FROM tasks q
        WHERE q.state = 'QUEUED' AND NOT EXISTS (
          SELECT 1 FROM fit
          WHERE fit.run_id = q.run_id AND fit.task_id = q.task_id))`),
  ]);
  const found = rowsOf<Candidate | Sentinel>(read);
  const candidates = found.filter((c): c is Candidate => c.run_id !== null);
  const onlyCandidates = candidates.length < found.length;
  const picked = await withinRunConcurrency(tx, candidates);
  const ranDry =
    candidates.length < options.limit && picked.length === candidates.length;
  const queueEmpty = onlyCandidates && picked.length === candidates.length;
  if (picked.length === 0) return { assignments: [], ranDry, queueEmpty };
  const rows = rowsOf<ClaimedRow>(
    await tx.execute(sql`
      WITH picked AS (
        SELECT * FROM unnest(
          ${sql.param(picked.map((c) => c.run_id))}::uuid[],
          ${sql.param(picked.map((c) => c.task_id))}::text[]
        ) AS p(run_id, task_id)
      )
      UPDATE tasks t
      SET state = 'ASSIGNED',
          attempt_count = t.attempt_count + 1,
          fencing_token = t.fencing_token + 1,
          agent_id = ${agent.agentId},
          error = ''
      FROM picked
      WHERE t.run_id = picked.run_id AND t.task_id = picked.task_id
      RETURNING t.run_id, t.task_id, t.type, t.spec, t.attempt_count,
        t.fencing_token`),
  );
  if (rows.length === 0) return { assignments: [], ranDry, queueEmpty };
  const granted = rows.map((row) => ({
    row,
    leaseId: randomUUID(),
    fencingToken: Number(row.fencing_token),
    ttlMs: leaseTtlFor(row.spec, options.leaseTtlMs),
  }));
  // Independent of each other: sent together, one round trip.
  const [, assignments] = await Promise.all([
    recordLeases(tx, agent.agentId, granted, options),
    buildAssignments(tx, granted, options.now),
  ]);
  return { assignments, ranDry, queueEmpty };
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

/** The candidates query's last row when nothing else is queued. */
interface Sentinel {
  run_id: null;
  task_id: null;
  concurrency: null;
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

interface Granted {
  row: ClaimedRow;
  leaseId: string;
  fencingToken: number;
  ttlMs: number;
}

/**
 * A lease lives for the server's TTL, or for the task's lost_after when it
 * keeps running through a lost connection.
 */
function leaseTtlFor(spec: JsonObject, serverTtlMs: number): number {
  if (spec.on_agent_disconnect === "keep_running") {
    const lostAfter = spec.lost_after;
    if (typeof lostAfter === "number") return Math.round(lostAfter * 1000);
  }
  return serverTtlMs;
}

/**
 * Stores the granted leases, their attempts and an ASSIGNED event each,
 * in one statement.
 */
async function recordLeases(
  tx: Db,
  agentId: string,
  granted: readonly Granted[],
  options: ClaimOptions,
): Promise<void> {
  const at = options.now.toISOString();
  await tx.execute(sql`
    WITH granted AS (
      SELECT * FROM unnest(
        ${sql.param(granted.map((g) => g.leaseId))}::uuid[],
        ${sql.param(granted.map((g) => g.row.run_id))}::uuid[],
        ${sql.param(granted.map((g) => g.row.task_id))}::text[],
        ${sql.param(granted.map((g) => g.row.attempt_count))}::int[],
        ${sql.param(granted.map((g) => g.fencingToken))}::bigint[],
        ${sql.param(granted.map((g) => g.ttlMs))}::int[]
      ) AS g(lease_id, run_id, task_id, attempt, fencing_token, ttl_ms)
    ),
    leased AS (
      INSERT INTO leases (id, run_id, task_id, attempt, agent_id,
        fencing_token, state, ttl_ms, granted_at, ack_deadline_at, expires_at)
      SELECT lease_id, run_id, task_id, attempt, ${agentId}, fencing_token,
        'GRANTED', ttl_ms, ${at}::timestamptz,
        ${at}::timestamptz + ${options.ackDeadlineMs} * interval '1 millisecond',
        ${at}::timestamptz + ttl_ms * interval '1 millisecond'
      FROM granted
    ),
    attempted AS (
      INSERT INTO attempts (run_id, task_id, number, lease_id, fencing_token,
        agent_id, assigned_at)
      SELECT run_id, task_id, attempt, lease_id, fencing_token, ${agentId},
        ${at}::timestamptz
      FROM granted
    ),
    ${appendRunEventsFrom(sql`
      SELECT run_id, task_id, 'ASSIGNED', attempt, ${agentId}, ''
      FROM granted`)}
    SELECT notified FROM events_notified`);
}

/** Adds to each lease the values its templates read. */
async function buildAssignments(
  tx: Db,
  granted: readonly Granted[],
  now: Date,
): Promise<ClaimedAssignment[]> {
  const runIds = [...new Set(granted.map((g) => g.row.run_id))];
  const reads = new Map(
    granted.map((g) => {
      const local = templateReads(configOf(g));
      const ids = [...local].map((id) => scopedTaskId(g.row.spec, id));
      return [g, new Set(ids)] as const;
    }),
  );
  const [runRows, factsByRun] = await Promise.all([
    tx
      .select({
        id: runs.id,
        workflowName: runs.workflowName,
        params: runs.params,
        startedAt: runs.startedAt,
      })
      .from(runs)
      .where(inArray(runs.id, runIds)),
    loadFactsByRun(tx, granted, reads),
  ]);
  const runById = new Map(runRows.map((r) => [r.id, r]));
  const result: ClaimedAssignment[] = [];
  for (const g of granted) {
    const run = runById.get(g.row.run_id);
    if (!run) continue;
    const spec = g.row.spec;
    const config = configOf(g);
    const runFacts = factsByRun.get(run.id) ?? new Map();
    const own = [...(reads.get(g) ?? [])].flatMap((id) => {
      const fact = runFacts.get(id);
      return fact ? [[id, fact] as const] : [];
    });
    const context = templateContext(
      run,
      g.row.task_id,
      g.row.attempt_count,
      new Map(own),
      now,
      { spec },
    );
    result.push({
      leaseId: g.leaseId,
      fencingToken: g.fencingToken,
      runId: g.row.run_id,
      taskId: g.row.task_id,
      attempt: g.row.attempt_count,
      type: g.row.type,
      config,
      context: context as unknown as JsonObject,
      env: (spec.env ?? {}) as Record<string, string>,
      timeoutMs: typeof spec.timeout === "number" ? spec.timeout * 1000 : 0,
      onAgentDisconnect: String(spec.on_agent_disconnect ?? "kill"),
      leaseTtlMs: g.ttlMs,
      secretsBlock: spec.secrets as JsonObject | undefined,
    });
  }
  return result;
}

function configOf(g: Granted): JsonObject {
  return (g.row.spec.config ?? {}) as JsonObject;
}

/** What the claimed tasks' templates read: one query per run, pipelined. */
async function loadFactsByRun(
  tx: Db,
  granted: readonly Granted[],
  reads: ReadonlyMap<Granted, Set<string>>,
) {
  const idsByRun = new Map<string, Set<string>>();
  for (const g of granted) {
    const ids = idsByRun.get(g.row.run_id) ?? new Set<string>();
    for (const id of reads.get(g) ?? []) ids.add(id);
    idsByRun.set(g.row.run_id, ids);
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
