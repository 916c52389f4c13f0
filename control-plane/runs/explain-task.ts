import { and, eq, gt, inArray, isNull, notInArray, sql } from "drizzle-orm";
import { agentGone, replicasGone } from "../agents/replicas-gone.js";
import { agents, type Db, leases, rowsOf, runs, tasks } from "../db/index.js";
import {
  type AllocatedResourcesRow,
  advertisedRoom,
  allocationHeld,
  roomLeft,
} from "../dispatch/agent-resources.js";
import { HELD_LEASE_STATES } from "../leases/lease-state.js";
import type { TaskStateName } from "../scheduler/states.js";
import {
  agentLacks,
  describeLack,
  type FitAgent,
  type FitRun,
  type FitTask,
} from "./agent-lacks.js";
import { type AgentVerdict, queuedSummary } from "./queued-summary.js";
import { requestsAhead, waitingAheadOn } from "./waiting-ahead.js";

/** Why a task is where it is, for `deerflow explain`. */
export interface TaskExplanation {
  state: TaskStateName;
  /** One sentence a person can act on. */
  summary: string;
  /** For a queued task: per agent name, what it lacks (or that it fits). */
  agents: Record<string, string>;
}

type TaskRow = Awaited<ReturnType<typeof loadTask>>;

/**
 * Explains one task of a run, or undefined when there is no such task.
 * Reads only; the answer is as of one moment and may be stale by the
 * time it is read (a claim may take the task right after).
 */
export async function explainTask(
  db: Db,
  runId: string,
  taskId: string,
  now: Date,
): Promise<TaskExplanation | undefined> {
  const task = await loadTask(db, runId, taskId);
  if (!task) return undefined;
  if (task.state !== "QUEUED") {
    return {
      state: task.state,
      summary: await stateSummary(db, task),
      agents: {},
    };
  }
  return explainQueued(db, task, now);
}

async function loadTask(db: Db, runId: string, taskId: string) {
  const [row] = await db
    .select({
      runId: tasks.runId,
      taskId: tasks.taskId,
      state: tasks.state,
      type: tasks.type,
      nodeSelector: tasks.nodeSelector,
      affinity: tasks.affinity,
      requests: tasks.requests,
      priority: tasks.priority,
      queuedAt: tasks.queuedAt,
      dependsOn: tasks.dependsOn,
      attemptCount: tasks.attemptCount,
      agentId: tasks.agentId,
      notBefore: tasks.notBefore,
      error: tasks.error,
      concurrency: runs.concurrency,
    })
    .from(tasks)
    .innerJoin(runs, eq(runs.id, tasks.runId))
    .where(and(eq(tasks.runId, runId), eq(tasks.taskId, taskId)));
  return row;
}

/** The summary of a task that is not queued: its state, said plainly. */
async function stateSummary(
  db: Db,
  task: NonNullable<TaskRow>,
): Promise<string> {
  const attempt = `attempt ${task.attemptCount}`;
  switch (task.state) {
    case "CREATED": {
      const waiting = await unfinishedUpstream(db, task);
      return waiting.length > 0
        ? `waiting for upstream ${waiting.join(", ")}`
        : "upstream finished; the task is about to be scheduled";
    }
    case "SCHEDULED":
      return task.notBefore
        ? `scheduled, not before ${task.notBefore.toISOString()}`
        : "scheduled";
    case "ASSIGNED":
      return (
        `assigned to agent ${await agentName(db, task.agentId)} ` +
        `(${attempt}), waiting for it to acknowledge`
      );
    case "RUNNING":
      return `running on agent ${await agentName(db, task.agentId)} (${attempt})`;
    case "RETRY":
      return task.notBefore
        ? `${attempt} failed; the next is queued not before ` +
            task.notBefore.toISOString()
        : `${attempt} failed; the next is queued shortly`;
    default:
      // The state is the answer's own field: said once, by the caller.
      return task.error ? `finished: ${task.error}` : "finished";
  }
}

const FINISHED: TaskStateName[] = [
  "SUCCESS",
  "FAILED",
  "KILLED",
  "SKIPPED",
  "UPSTREAM_FAILED",
];

async function unfinishedUpstream(
  db: Db,
  task: NonNullable<TaskRow>,
): Promise<string[]> {
  if (task.dependsOn.length === 0) return [];
  const rows = await db
    .select({ taskId: tasks.taskId })
    .from(tasks)
    .where(
      and(
        eq(tasks.runId, task.runId),
        inArray(tasks.taskId, task.dependsOn),
        notInArray(tasks.state, FINISHED),
      ),
    )
    .orderBy(tasks.position);
  return rows.map((r) => r.taskId);
}

async function agentName(db: Db, agentId: string | null): Promise<string> {
  if (!agentId) return "(unknown)";
  const [row] = await db
    .select({ name: agents.name })
    .from(agents)
    .where(eq(agents.id, agentId));
  return row?.name ?? agentId;
}

async function explainQueued(
  db: Db,
  task: NonNullable<TaskRow>,
  now: Date,
): Promise<TaskExplanation> {
  const stopping = await killedAttemptRunning(db, task, now);
  const [rows, held, runHeld, allocated, ahead] = await Promise.all([
    db.select().from(agents).orderBy(agents.name, agents.id),
    heldByAgent(db),
    heldByRun(db, task.runId),
    task.requests ? allocatedByAgent(db, now) : new Map(),
    task.requests ? requestsAhead(db, task, now) : [],
  ]);
  const gone = await replicasGone(db, rows, now.getTime());
  const fitTask: FitTask = {
    type: task.type,
    nodeSelector: task.nodeSelector,
    affinity: task.affinity,
    requests: task.requests,
  };
  const run: FitRun = { concurrency: task.concurrency, heldLeases: runHeld };
  const names = agentKeys(rows);
  const verdicts: AgentVerdict[] = [];
  const byName: Record<string, string> = {};
  for (const row of rows) {
    const resources = advertisedRoom(row.resources);
    const agent: FitAgent = {
      name: names.get(row.id) ?? row.name,
      state: agentGone(row, gone, now.getTime()) ? "DISCONNECTED" : row.state,
      cordoned: row.cordoned,
      labels: row.labels,
      taskTypes: row.taskTypes.map((t) => String(t.type)),
      slots: row.slots,
      heldLeases: held.get(row.id) ?? 0,
      resources,
      freeResources: roomLeft(resources, allocated.get(row.id) ?? []),
    };
    agent.waitingAhead = waitingAheadOn(ahead, agent, task.runId);
    const lacks = agentLacks(fitTask, agent, run);
    verdicts.push({ name: agent.name, lacks });
    byName[agent.name] =
      lacks.length > 0
        ? lacks.map(describeLack).join("; ")
        : `fits (${agent.slots - agent.heldLeases} of ${agent.slots} slots free)`;
  }
  return {
    state: "QUEUED",
    summary: stopping ?? queuedSummary(fitTask, verdicts, run),
    agents: byName,
  };
}

/**
 * Agents by a name that tells them apart: their name, or with the start
 * of their id when another agent has the same name.
 */
function agentKeys(
  rows: readonly { id: string; name: string }[],
): Map<string, string> {
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.name, (seen.get(r.name) ?? 0) + 1);
  return new Map(
    rows.map((r) => [
      r.id,
      (seen.get(r.name) ?? 0) > 1 ? `${r.name} (${r.id.slice(0, 8)})` : r.name,
    ]),
  );
}

/**
 * The claim does not hand out a task while a killed attempt of it may
 * still run: the same condition, said as a sentence.
 */
async function killedAttemptRunning(
  db: Db,
  task: NonNullable<TaskRow>,
  now: Date,
): Promise<string | undefined> {
  const [lease] = await db
    .select({ attempt: leases.attempt, expiresAt: leases.expiresAt })
    .from(leases)
    .where(
      and(
        eq(leases.runId, task.runId),
        eq(leases.taskId, task.taskId),
        eq(leases.state, "REVOKED"),
        isNull(leases.stoppedAt),
        gt(leases.expiresAt, now),
      ),
    )
    .limit(1);
  if (!lease) return undefined;
  return (
    `waiting for its revoked attempt ${lease.attempt} to stop ` +
    `(at the latest ${lease.expiresAt.toISOString()})`
  );
}

async function heldByAgent(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .select({ agentId: leases.agentId, held: sql<number>`count(*)::int` })
    .from(leases)
    .where(inArray(leases.state, [...HELD_LEASE_STATES]))
    .groupBy(leases.agentId);
  return new Map(rows.map((r) => [r.agentId, Number(r.held)]));
}

/** Per agent, the allocations its attempts hold (see allocationHeld). */
async function allocatedByAgent(
  db: Db,
  now: Date,
): Promise<Map<string, AllocatedResourcesRow[]>> {
  const rows = rowsOf<{ agent_id: string; held: AllocatedResourcesRow[] }>(
    await db.execute(sql`
      SELECT l.agent_id, jsonb_agg(l.resources) AS held FROM leases l
      WHERE ${allocationHeld("l", now)}
      GROUP BY l.agent_id`),
  );
  return new Map(rows.map((r) => [r.agent_id, r.held]));
}

async function heldByRun(db: Db, runId: string): Promise<number> {
  const [row] = await db
    .select({ held: sql<number>`count(*)::int` })
    .from(leases)
    .where(
      and(
        eq(leases.runId, runId),
        inArray(leases.state, [...HELD_LEASE_STATES]),
      ),
    );
  return Number(row?.held ?? 0);
}
