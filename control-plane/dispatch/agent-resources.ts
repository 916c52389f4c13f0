/**
 * An agent's resources (SPEC §5): what it has, what its attempts hold, and
 * how a task's request is fitted into what is left. GPUs are handed out
 * by index; CPU, memory and storage are amounts.
 *
 * The agent's row holds what it advertised (Resources as JSON: int64s as
 * strings, zeros left out); each held lease holds what its attempt was
 * allocated. What is free is the difference, read from the database, so
 * every replica and a restarted control plane agree on it.
 */
import { type SQL, sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { gpuTypeMatches, type ResourceRequest } from "../../workflow/index.js";
import { type Db, rowsOf } from "../db/index.js";

/** One GPU of an agent, or allocated to an attempt. */
export interface GpuRow {
  index: number;
  type: string;
  memory_bytes: number;
}

/** What an attempt was allocated, as its lease stores it. */
export interface AllocatedResourcesRow {
  cpu_millis: number;
  memory_bytes: number;
  gpus: GpuRow[];
  storage_bytes: number;
}

/** Resources of an agent: all it has, or what is left of it. */
export interface AgentRoom {
  cpuMillis: number;
  memoryBytes: number;
  storageBytes: number;
  storageType: string;
  gpus: GpuRow[];
}

/** An attempt's allocation as the Resources message carries it. */
export function allocatedResources(row: AllocatedResourcesRow) {
  return {
    cpuMillis: BigInt(row.cpu_millis),
    memoryBytes: BigInt(row.memory_bytes),
    gpus: row.gpus.map((gpu) => ({
      index: gpu.index,
      type: gpu.type,
      memoryBytes: BigInt(gpu.memory_bytes),
    })),
    storageBytes: BigInt(row.storage_bytes),
  };
}

/** What an agent advertised, from its row's `resources`. */
export function advertisedRoom(resources: JsonObject): AgentRoom {
  const gpus = Array.isArray(resources.gpus) ? resources.gpus : [];
  return {
    cpuMillis: count(resources.cpuMillis),
    memoryBytes: count(resources.memoryBytes),
    storageBytes: count(resources.storageBytes),
    storageType: String(resources.storageType ?? ""),
    gpus: gpus.map((gpu) => {
      const g = (gpu ?? {}) as JsonObject;
      return {
        index: count(g.index),
        type: String(g.type ?? ""),
        memory_bytes: count(g.memoryBytes),
      };
    }),
  };
}

/** `room` less what `held` allocations take of it. */
export function roomLeft(
  room: AgentRoom,
  held: readonly AllocatedResourcesRow[],
): AgentRoom {
  const taken = new Set(held.flatMap((a) => a.gpus.map((g) => g.index)));
  const sum = (pick: (a: AllocatedResourcesRow) => number) =>
    held.reduce((total, a) => total + pick(a), 0);
  return {
    cpuMillis: room.cpuMillis - sum((a) => a.cpu_millis),
    memoryBytes: room.memoryBytes - sum((a) => a.memory_bytes),
    storageBytes: room.storageBytes - sum((a) => a.storage_bytes),
    storageType: room.storageType,
    gpus: room.gpus.filter((g) => !taken.has(g.index)),
  };
}

/**
 * What of `room` falls short of `request`, one phrase each ("cpu 3 (2
 * free)"); empty when it fits. `room` is the agent's whole ("in all") or
 * what is left of it ("free").
 */
export function shortfalls(
  request: ResourceRequest,
  room: AgentRoom,
  of: "in all" | "free" = "free",
): string[] {
  const short: string[] = [];
  const has = (value: string) => `(${value} ${of})`;
  if (request.cpu_millis > room.cpuMillis) {
    short.push(
      `cpu ${cores(request.cpu_millis)} ${has(cores(room.cpuMillis))}`,
    );
  }
  if (request.memory_bytes > room.memoryBytes) {
    short.push(
      `memory ${bytes(request.memory_bytes)} ${has(bytes(room.memoryBytes))}`,
    );
  }
  if (request.gpu_count > 0) {
    const usable = room.gpus.filter((g) => gpuFits(g, request)).length;
    if (usable < request.gpu_count) {
      short.push(`${describeGpus(request)} ${has(String(usable))}`);
    }
  }
  if (request.storage_bytes > room.storageBytes) {
    short.push(
      `storage ${bytes(request.storage_bytes)} ${has(bytes(room.storageBytes))}`,
    );
  }
  if (
    request.storage_type !== undefined &&
    request.storage_type !== room.storageType
  ) {
    short.push(
      `storage type ${request.storage_type} (agent has ${room.storageType || "none"})`,
    );
  }
  return short;
}

/**
 * Allocates `request` from `free`, which it shrinks, or returns undefined
 * and leaves `free` as it was when the request does not fit. GPUs are
 * taken lowest index first among those of the wanted type and memory.
 */
export function allocate(
  request: ResourceRequest,
  free: AgentRoom,
): AllocatedResourcesRow | undefined {
  if (shortfalls(request, free).length > 0) return undefined;
  const gpus = free.gpus
    .filter((g) => gpuFits(g, request))
    .sort((a, b) => a.index - b.index)
    .slice(0, request.gpu_count);
  const given = new Set(gpus.map((g) => g.index));
  free.cpuMillis -= request.cpu_millis;
  free.memoryBytes -= request.memory_bytes;
  free.storageBytes -= request.storage_bytes;
  free.gpus = free.gpus.filter((g) => !given.has(g.index));
  return {
    cpu_millis: request.cpu_millis,
    memory_bytes: request.memory_bytes,
    gpus,
    storage_bytes: request.storage_bytes,
  };
}

/**
 * Reads what `agentId` has free, under a lock of the agent's allocations
 * held to the end of `tx`: two claims for one agent (replicas, a session
 * superseding another) cannot hand out the same GPU.
 */
export async function lockFreeRoom(
  tx: Db,
  agentId: string,
  now: Date,
): Promise<AgentRoom> {
  // Its own statement: a statement reads as of its start, and the read
  // must see what a claim that held the lock before committed.
  await tx.execute(sql`
    SELECT pg_advisory_xact_lock(
      hashtextextended('deerflow.agent-resources:' || ${agentId}, 0))`);
  const [row] = rowsOf<{
    resources: JsonObject | null;
    held: AllocatedResourcesRow[];
  }>(
    await tx.execute(sql`
      SELECT
        (SELECT resources FROM agents WHERE id = ${agentId}) AS resources,
        coalesce((
          SELECT jsonb_agg(l.resources) FROM leases l
          WHERE l.agent_id = ${agentId} AND ${allocationHeld("l", now)}
        ), '[]'::jsonb) AS held`),
  );
  if (!row?.resources) return advertisedRoom({});
  return roomLeft(advertisedRoom(row.resources), row.held);
}

/**
 * A lease whose allocation is still in use: held, or revoked and not yet
 * confirmed stopped (its attempt may run on until the lease would have
 * expired). Matches the leases_allocated index.
 */
export function allocationHeld(alias: string, now: Date): SQL {
  const l = sql.raw(alias);
  return sql`${l}.resources IS NOT NULL
    AND ${l}.state IN ('GRANTED', 'ACTIVE', 'REVOKED')
    AND ${l}.stopped_at IS NULL
    AND (${l}.state <> 'REVOKED'
      OR ${l}.expires_at > ${now.toISOString()}::timestamptz)`;
}

/**
 * A WITH item, `agent_room`: one row of the agent's advertised resources
 * (`total_*`, `gpus` as advertised) and what its held allocations leave
 * (`free_*`, `held_gpus` the indexes in use). A claim reads it only when
 * it meets a task that asks for resources: PostgreSQL runs the subqueries
 * that read it on first use.
 */
export function agentRoomItem(agentId: string, now: Date): SQL {
  return sql`agent_room AS (
    SELECT
      coalesce((a.resources->>'cpuMillis')::bigint, 0) AS total_cpu_millis,
      coalesce((a.resources->>'memoryBytes')::bigint, 0) AS total_memory_bytes,
      coalesce((a.resources->>'storageBytes')::bigint, 0) AS total_storage_bytes,
      coalesce(a.resources->>'storageType', '') AS storage_type,
      coalesce(a.resources->'gpus', '[]'::jsonb) AS gpus,
      coalesce((a.resources->>'cpuMillis')::bigint, 0) - h.cpu_millis
        AS free_cpu_millis,
      coalesce((a.resources->>'memoryBytes')::bigint, 0) - h.memory_bytes
        AS free_memory_bytes,
      coalesce((a.resources->>'storageBytes')::bigint, 0) - h.storage_bytes
        AS free_storage_bytes,
      h.gpus AS held_gpus,
      coalesce(jsonb_array_length(a.resources->'gpus'), 0) AS total_gpu_count,
      coalesce(jsonb_array_length(a.resources->'gpus'), 0)
        - cardinality(h.gpus) AS free_gpu_count
    FROM agents a, LATERAL (
      SELECT
        coalesce(sum((l.resources->>'cpu_millis')::bigint), 0) AS cpu_millis,
        coalesce(sum((l.resources->>'memory_bytes')::bigint), 0) AS memory_bytes,
        coalesce(sum((l.resources->>'storage_bytes')::bigint), 0) AS storage_bytes,
        -- Apart from the sums, which a row per GPU would multiply.
        (SELECT coalesce(array_agg((g->>'index')::int), '{}')
          FROM leases lg, jsonb_array_elements(lg.resources->'gpus') g
          WHERE lg.agent_id = a.id AND ${allocationHeld("lg", now)}) AS gpus
      FROM leases l
      WHERE l.agent_id = a.id AND ${allocationHeld("l", now)}
    ) h
    WHERE a.id = ${agentId}
  )`;
}

/**
 * Whether the `requests` of the row at hand fit the `agent_room` item's
 * free resources, or with `of: "total"` all it has. The same test as
 * {@link shortfalls}, in SQL: a claim passes over a task that does not
 * fit rather than lock it and hide the tasks behind it.
 */
export function requestFits(of: "free" | "total"): SQL {
  const room = sql.raw(of === "free" ? "free_" : "total_");
  const taken =
    of === "free"
      ? sql`AND NOT coalesce((g->>'index')::int, 0) = ANY(r.held_gpus)`
      : sql``;
  // Cheap tests first, in the order PostgreSQL evaluates them: the GPU
  // count passes over most tasks that do not fit (a backlog of GPU work),
  // before the GPUs are looked at one by one.
  return sql`(
    (requests->>'gpu_count')::int
      <= (SELECT ${room}gpu_count FROM agent_room)
    AND (requests->>'cpu_millis')::bigint
      <= (SELECT ${room}cpu_millis FROM agent_room)
    AND (requests->>'memory_bytes')::bigint
      <= (SELECT ${room}memory_bytes FROM agent_room)
    AND (requests->>'storage_bytes')::bigint
      <= (SELECT ${room}storage_bytes FROM agent_room)
    AND (NOT requests ? 'storage_type'
      OR requests->>'storage_type' = (SELECT storage_type FROM agent_room))
    AND ((requests->>'gpu_count')::int = 0
      OR (requests->>'gpu_count')::int <= (
        SELECT count(*) FROM agent_room r, jsonb_array_elements(r.gpus) g
        WHERE coalesce((g->>'memoryBytes')::bigint, 0)
            >= coalesce((requests->>'gpu_memory_bytes')::bigint, 0)
          AND (NOT requests ? 'gpu_type_pattern'
            OR lower(g->>'type') ~ (requests->>'gpu_type_pattern'))
          ${taken})))`;
}

/** Whether `gpu` is of the type and memory `request` asks for. */
export function gpuFits(gpu: GpuRow, request: ResourceRequest): boolean {
  return (
    gpu.memory_bytes >= (request.gpu_memory_bytes ?? 0) &&
    (request.gpu_type === undefined ||
      gpuTypeMatches(gpu.type, request.gpu_type))
  );
}

function describeGpus(request: ResourceRequest): string {
  const what = request.gpu_count === 1 ? "gpu" : "gpus";
  const type = request.gpu_type ? `${request.gpu_type} ` : "";
  const memory =
    request.gpu_memory_bytes !== undefined
      ? ` of ${bytes(request.gpu_memory_bytes)}`
      : "";
  return `${request.gpu_count} ${type}${what}${memory}`;
}

/** Millicores as Kubernetes writes them: "2", "500m". */
function cores(millis: number): string {
  const m = Math.max(0, millis);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Bytes in the largest binary unit that keeps them readable: "1.5Gi". */
function bytes(n: number): string {
  const units = ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"];
  const value = Math.max(0, n);
  for (const [i, unit] of units.entries()) {
    const size = 2 ** (10 * (units.length - i));
    if (value >= size) return `${Number((value / size).toFixed(2))}${unit}`;
  }
  return String(value);
}

/** A non-negative whole number from JSON (int64s come as strings). */
function count(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
