/**
 * Keeps a large request from starving behind small ones (SPEC §5: among
 * fitting tasks, higher priority first, then oldest). Without it, an
 * agent with one of its two GPUs busy would hand the free one to each
 * 1-GPU task queued behind a 2-GPU task, and the 2-GPU task would wait
 * for as long as small ones keep coming.
 *
 * The waiting request is the first queued task, in claim order, that the
 * agent has room for in all but not free now. A claim takes no task
 * behind it that asks for what it is short of: that much is left to free
 * up for it. GPUs are held back while a free one is of the type and
 * memory it asks for (a task behind it might take that one); a GPU task
 * behind it may take a GPU it could never use. Tasks that ask for
 * nothing, and tasks ahead of it, are taken as usual.
 */
import { type SQL, sql } from "drizzle-orm";
import type { ResourceRequest } from "../../workflow/index.js";
import { type AgentRoom, gpuFits, requestFits } from "./agent-resources.js";
import { assignableNow } from "./assignable-now.js";

/**
 * Queued tasks that ask for resources a claim looks at, the first in
 * claim order of those the agent's type, labels and affinity fit, to
 * find the waiting request: a backlog no agent fits costs a claim
 * little. Behind 100 requests the agent can never fit in all, a waiting
 * request goes unseen, and is not held for.
 */
export const WAITING_LOOK_AHEAD = 100;

/**
 * A WITH item `waiting_request`: the agent's waiting request, one row or
 * none, with its place in claim order and what it is short of. `fits`
 * is the claim's test of type, selector and affinity; the `agent_room`
 * item must come before it. Only a task that could start at `now` but
 * for resources is waited for ({@link assignableNow}).
 */
export function waitingRequestItem(fits: SQL, now: Date): SQL {
  return sql`waiting_request AS MATERIALIZED (
    SELECT priority, queued_at, run_id, task_id,
      (requests->>'cpu_millis')::bigint
        > (SELECT free_cpu_millis FROM agent_room) AS short_cpu,
      (requests->>'memory_bytes')::bigint
        > (SELECT free_memory_bytes FROM agent_room) AS short_memory,
      (requests->>'storage_bytes')::bigint
        > (SELECT free_storage_bytes FROM agent_room) AS short_storage,
      (requests->>'gpu_count')::int > 0 AND EXISTS (
        SELECT 1 FROM agent_room r, jsonb_array_elements(r.gpus) g
        WHERE coalesce((g->>'memoryBytes')::bigint, 0)
            >= coalesce((requests->>'gpu_memory_bytes')::bigint, 0)
          AND (NOT requests ? 'gpu_type_pattern'
            OR lower(g->>'type') ~ (requests->>'gpu_type_pattern'))
          AND NOT coalesce((g->>'index')::int, 0) = ANY(r.held_gpus))
        AS short_gpu
    FROM (
      SELECT priority, queued_at, run_id, task_id, requests FROM tasks
      WHERE state = 'QUEUED' AND requests IS NOT NULL AND ${fits}
        AND ${assignableNow(now)}
      ORDER BY priority DESC NULLS LAST, queued_at, run_id, task_id
      LIMIT ${WAITING_LOOK_AHEAD}) AS waiting
    WHERE ${requestFits("total")} AND NOT ${requestFits("free")}
    ORDER BY priority DESC NULLS LAST, queued_at, run_id, task_id
    LIMIT 1
  )`;
}

/**
 * Whether the `tasks` row at hand, which asks for resources, is behind
 * the waiting request in claim order and asks for what it is short of.
 */
export const heldForWaitingRequest = sql`EXISTS (
  SELECT 1 FROM waiting_request w
  WHERE (-tasks.priority, tasks.queued_at, tasks.run_id, tasks.task_id)
      > (-w.priority, w.queued_at, w.run_id, w.task_id)
    AND ((w.short_cpu AND (tasks.requests->>'cpu_millis')::bigint > 0)
      OR (w.short_memory AND (tasks.requests->>'memory_bytes')::bigint > 0)
      OR (w.short_storage AND (tasks.requests->>'storage_bytes')::bigint > 0)
      OR (w.short_gpu AND (tasks.requests->>'gpu_count')::int > 0)))`;

/** What a waiting request is short of, as {@link waitingRequestItem} says. */
export interface WaitingShort {
  cpu: boolean;
  memory: boolean;
  storage: boolean;
  gpu: boolean;
}

/** What `request`, which did not fit `free`, holds back behind it. */
export function waitingShort(
  request: ResourceRequest,
  free: AgentRoom,
): WaitingShort {
  return {
    cpu: request.cpu_millis > free.cpuMillis,
    memory: request.memory_bytes > free.memoryBytes,
    storage: request.storage_bytes > free.storageBytes,
    gpu: request.gpu_count > 0 && free.gpus.some((g) => gpuFits(g, request)),
  };
}

/** Whether `request`, behind the waiting one, must wait for it. */
export function heldBackBy(
  short: WaitingShort,
  request: ResourceRequest,
): boolean {
  return (
    (short.cpu && request.cpu_millis > 0) ||
    (short.memory && request.memory_bytes > 0) ||
    (short.storage && request.storage_bytes > 0) ||
    (short.gpu && request.gpu_count > 0)
  );
}
