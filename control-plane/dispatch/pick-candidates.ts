import { sql } from "drizzle-orm";
import type { ResourceRequest } from "../../workflow/index.js";
import { type Db, rowsOf } from "../db/index.js";
import {
  type AllocatedResourcesRow,
  allocate,
  lockFreeRoom,
} from "./agent-resources.js";
import {
  heldBackBy,
  type WaitingShort,
  waitingShort,
} from "./waiting-request.js";

/**
 * A queued task a claim found but did not assign at once: its run has a
 * `concurrency`, or it asks for resources.
 */
export interface Candidate {
  run_id: string;
  task_id: string;
  /** The run's `concurrency`, or null without one. */
  concurrency: number | null;
  /** What the task asks for, or null. */
  requests: ResourceRequest | null;
}

/** A candidate to assign, with what it was allocated. */
export interface PickedCandidate extends Candidate {
  resources?: AllocatedResourcesRow | undefined;
}

/**
 * Keeps, of the claimed candidates in claim order, those their runs'
 * `concurrency` leaves room for and the agent's free resources cover,
 * short of what an earlier candidate waits for, allocating each its
 * resources (see {@link withinRunConcurrency} and
 * {@link lockFreeRoom}).
 */
export async function pickCandidates(
  tx: Db,
  agentId: string,
  candidates: readonly Candidate[],
  now: Date,
): Promise<PickedCandidate[]> {
  if (candidates.length === 0) return [];
  const runRoom = await withinRunConcurrency(tx, candidates);
  const free = candidates.some((c) => c.requests !== null)
    ? await lockFreeRoom(tx, agentId, now)
    : undefined;
  const picked: PickedCandidate[] = [];
  // The first request the candidates before it left no room for: what
  // it is short of is held for it (see waiting-request.ts).
  let waiting: WaitingShort | undefined;
  for (const c of candidates) {
    const left = runRoom.get(c.run_id);
    if (left !== undefined && left <= 0) continue;
    let resources: AllocatedResourcesRow | undefined;
    if (c.requests !== null && free !== undefined) {
      if (waiting !== undefined && heldBackBy(waiting, c.requests)) continue;
      resources = allocate(c.requests, free);
      if (resources === undefined) {
        waiting ??= waitingShort(c.requests, free);
        continue;
      }
    }
    if (left !== undefined) runRoom.set(c.run_id, left - 1);
    picked.push({ ...c, resources });
  }
  return picked;
}

/**
 * How many more of each run's tasks the claim may assign, for the runs
 * of `candidates` that have a `concurrency`: a run's attempts that hold a
 * lease count against it. Runs with a limit are locked, so two replicas
 * claiming at once cannot both fill the last slot; a run locked elsewhere
 * (it is advancing, or another claim counts it) gets no room this time,
 * rather than waiting while this claim holds task rows the other may need.
 */
async function withinRunConcurrency(
  tx: Db,
  candidates: readonly Candidate[],
): Promise<Map<string, number>> {
  const room = new Map<string, number>();
  const limited = [
    ...new Set(
      candidates.filter((c) => c.concurrency !== null).map((c) => c.run_id),
    ),
  ].sort();
  if (limited.length === 0) return room;
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
  for (const c of candidates) {
    if (c.concurrency === null || room.has(c.run_id)) continue;
    const locked = held.find((h) => h.run_id === c.run_id);
    room.set(c.run_id, locked ? c.concurrency - locked.held : 0);
  }
  return room;
}
