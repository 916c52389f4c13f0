import { sql } from "drizzle-orm";
import type {
  AffinityExpression,
  ResourceRequest,
} from "../../workflow/index.js";
import { type Db, rowsOf } from "../db/index.js";
import { assignableNow } from "../dispatch/assignable-now.js";
import {
  WAITING_LOOK_AHEAD,
  waitingShort,
} from "../dispatch/waiting-request.js";
import { agentLacks, type FitAgent, type WaitingAhead } from "./agent-lacks.js";

/** A queued task that asks for resources, ahead of the one explained. */
export interface RequestAhead {
  run_id: string;
  task_id: string;
  type: string;
  node_selector: Record<string, string>;
  affinity: AffinityExpression[] | null;
  requests: ResourceRequest;
}

/** Where a task is in claim order. */
export interface ClaimPlace {
  runId: string;
  taskId: string;
  priority: number;
  queuedAt: Date | null;
}

/**
 * The queued tasks that ask for resources ahead of `place` in claim
 * order (higher priority first, then oldest) and could start at `now`
 * but for resources, as many as a claim looks at for its waiting request.
 */
export async function requestsAhead(
  db: Db,
  place: ClaimPlace,
  now: Date,
): Promise<RequestAhead[]> {
  if (place.queuedAt === null) return [];
  return rowsOf<RequestAhead>(
    await db.execute(sql`
      SELECT run_id, task_id, type, node_selector, affinity, requests
      FROM tasks
      WHERE state = 'QUEUED' AND requests IS NOT NULL
        AND ${assignableNow(now)}
        AND (-priority, queued_at, run_id, task_id)
          < (${-place.priority}, ${place.queuedAt.toISOString()}::timestamptz,
            ${place.runId}::uuid, ${place.taskId})
      ORDER BY priority DESC NULLS LAST, queued_at, run_id, task_id
      LIMIT ${WAITING_LOOK_AHEAD}`),
  );
}

/**
 * The first of `ahead` that `agent` could run but has not the free
 * resources for: what a claim of the agent keeps for it (see
 * waiting-request.ts). `runId` is the explained task's, to name the
 * other task briefly when it is of the same run.
 */
export function waitingAheadOn(
  ahead: readonly RequestAhead[],
  agent: FitAgent,
  runId: string,
): WaitingAhead | undefined {
  for (const row of ahead) {
    const lacks = agentLacks(
      {
        type: row.type,
        nodeSelector: row.node_selector,
        affinity: row.affinity,
        requests: row.requests,
      },
      { ...agent, waitingAhead: undefined },
      { concurrency: null, heldLeases: 0 },
    );
    const waits =
      lacks.some((l) => l.kind === "resources_busy") &&
      lacks.every((l) => l.kind === "resources_busy" || l.kind === "full");
    if (!waits) continue;
    return {
      task:
        row.run_id === runId
          ? `task ${row.task_id}`
          : `task ${row.task_id} of run ${row.run_id}`,
      short: waitingShort(row.requests, agent.freeResources),
    };
  }
  return undefined;
}
