import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import { referencedTasks } from "../../workflow/index.js";
import type { Db } from "../db/index.js";
import { scopedTaskId } from "../scheduler/task-groups.js";
import {
  loadFacts,
  type TaskFacts,
  templateContext,
} from "../scheduler/template-facts.js";
import type { AllocatedResourcesRow } from "./agent-resources.js";

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
  /** What the attempt was allocated of the agent; none for most tasks. */
  resources?: AllocatedResourcesRow | undefined;
  /** The task's `secrets` block as stored; resolved before delivery. */
  secretsBlock?: JsonObject | undefined;
  /**
   * The task's secret values, set after the claim (AssignmentSecrets) and
   * sent only in the Assignment; never stored.
   */
  secrets?: Record<string, string> | undefined;
}

/** A task assigned by a claim, with its lease and what its run tells templates. */
export interface GrantedRow {
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
  /** What the lease allocated, or null. */
  resources: AllocatedResourcesRow | null;
}

/**
 * Adds to each lease the values its templates read: the run's came with
 * the claim; other tasks' states and outputs are read only when a
 * template names them.
 */
export async function buildAssignments(
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
      ...(g.resources ? { resources: g.resources } : {}),
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
