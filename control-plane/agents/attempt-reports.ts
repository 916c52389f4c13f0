/**
 * What an agent reports about an attempt besides its result: that it
 * rejected the assignment, the attempt's log lines, its metric points.
 */

import type { Logger } from "../../core/index.js";
import type {
  LogChunk,
  MetricBatch,
  Reject,
} from "../../gen/deerflow/v1/agent_pb.js";
import { replaceNul } from "../../workflow/index.js";
import type { Db } from "../db/index.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { LeaseRef } from "../leases/acknowledge-lease.js";
import { recordResult } from "../leases/record-result.js";
import { appendTaskLogs, appendTaskMetrics } from "../logs/append-task-logs.js";
import {
  fromLeaseRef,
  toLogLines,
  toMetricPoints,
} from "./session-messages.js";

/** Who reports, and where it goes. */
export interface AttemptReporting {
  db: Db;
  dispatcher: Dispatcher;
  agentId: string;
  log: Logger;
  /** When the report was received. */
  now: Date;
}

/** The longest part of an agent's rejection reason that is kept. */
export const MAX_REJECT_REASON = 1_000;

/**
 * A rejected assignment never started: its task goes back to the queue
 * without using up one of its attempts, and the attempt keeps the
 * agent's reason.
 */
export async function recordRejection(
  by: AttemptReporting,
  reject: Reject,
): Promise<void> {
  if (!reject.lease) {
    by.log.warn({ message: "reject" }, "message without lease ignored");
    return;
  }
  const reason = replaceNul(reject.reason).slice(0, MAX_REJECT_REASON);
  await recordResult(
    by.db,
    by.agentId,
    {
      leaseId: reject.lease.leaseId,
      fencingToken: Number(reject.lease.fencingToken),
      outcome: "LOST",
      error: reason
        ? `the agent rejected the assignment: ${reason}`
        : "the agent rejected the assignment",
      retryable: true,
      retryClass: "lost",
      requeue: true,
    },
    by.now,
  );
  by.dispatcher.queueChanged();
}

/**
 * Stores an attempt's log lines. Returns the lease when the agent no
 * longer holds it (its attempt should stop), undefined otherwise.
 */
export async function appendLogChunk(
  by: AttemptReporting,
  chunk: LogChunk,
): Promise<LeaseRef | undefined> {
  if (!chunk.lease) return undefined;
  const ref = fromLeaseRef(chunk.lease);
  const lines = toLogLines(chunk.lines, by.now);
  const held = await appendTaskLogs(by.db, by.agentId, ref, lines);
  return held ? undefined : ref;
}

/** Stores an attempt's metric points. */
export async function appendMetricBatch(
  by: AttemptReporting,
  batch: MetricBatch,
): Promise<void> {
  if (!batch.lease) return;
  await appendTaskMetrics(
    by.db,
    by.agentId,
    fromLeaseRef(batch.lease),
    toMetricPoints(batch.points, by.now),
  );
}
