import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { eq, sql } from "drizzle-orm";
import type { Clock, Logger } from "../../core/index.js";
import type {
  LeaseRef as LeaseRefMessage,
  Result,
} from "../../gen/deerflow/v1/agent_pb.js";
import type { LeaseService } from "../../gen/deerflow/v1/lease_pb.js";
import { AttemptOutcome } from "../../gen/deerflow/v1/run_pb.js";
import { registerAgent } from "../agents/register-agent.js";
import { agentGone, replicasGone } from "../agents/replicas-gone.js";
import {
  fromLeaseRef,
  toAssignment,
  toAttemptResult,
  toLogLines,
} from "../agents/session-messages.js";
import { validateHello } from "../agents/validate-hello.js";
import { agents, type Db, leases } from "../db/index.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import {
  acknowledgeLeases,
  type LeaseRef,
} from "../leases/acknowledge-lease.js";
import { RETURNED } from "../leases/close-attempt.js";
import {
  MAX_ACQUIRE_WAIT_MS,
  POLLING_SESSION,
  pollForTask,
} from "../leases/polling-worker.js";
import { recordResult } from "../leases/record-result.js";
import { renewLeases } from "../leases/renew-leases.js";
import { readLeases, revokeLease } from "../leases/revoke-lease.js";
import { appendTaskLogs } from "../logs/append-task-logs.js";
import type { AssignmentSecrets } from "../secrets/assignment-secrets.js";
import { invalidArgument, requireUuid } from "./connect-errors.js";
import { toLease } from "./to-lease.js";
import { checkRepeatedSequences, WORKER_LINES } from "./worker-lines.js";

export interface LeaseServiceDeps {
  db: Db;
  dispatcher: Dispatcher;
  clock: Clock;
  logger: Logger;
  replicaId: string;
  leaseTtlMs: number;
  ackDeadlineMs: number;
  /** Resolves claimed tasks' secrets before they are handed over. */
  secrets?: AssignmentSecrets | undefined;
}

/** Most leases ListLeases answers with, newest first. */
const MAX_LISTED_LEASES = 1_000;

/**
 * LeaseService: the agent's lease protocol as unary calls, for workers
 * that cannot hold a stream (a function, a job on a batch system), plus
 * listing and revoking leases for operators.
 *
 * A worker names itself in each AcquireLease (its Hello, with an
 * agent_id it keeps), takes one assignment per call, renews the lease
 * before its TTL runs out, and ends it with CompleteLease or FailLease.
 * Its first call on a lease acknowledges it: an answer lost on the way
 * leaves a lease no one calls back on, which its ack deadline gives back
 * to the queue without using up an attempt.
 */
export function createLeaseService(
  deps: LeaseServiceDeps,
): ServiceImpl<typeof LeaseService> {
  const now = () => new Date(deps.clock.now());
  return {
    async acquireLease(req, context) {
      const hello = req.worker;
      if (!hello) throw invalidArgument("worker", "is required");
      if (hello.agentId === "") {
        throw invalidArgument(
          "worker.agent_id",
          "is required: a polling worker names itself, and keeps the name",
        );
      }
      if (hello.heldLeases.length > 0) {
        throw invalidArgument(
          "worker.held_leases",
          "must be empty: a polling worker renews its leases with RenewLease",
        );
      }
      if (
        !Number.isInteger(req.waitMs) ||
        req.waitMs < 0 ||
        req.waitMs > MAX_ACQUIRE_WAIT_MS
      ) {
        throw invalidArgument(
          "wait_ms",
          `must be 0 to ${MAX_ACQUIRE_WAIT_MS}, got ${req.waitMs}`,
        );
      }
      const { profile } = validateHello(hello);
      await refuseStreamingAgent(deps, profile.agentId);
      await registerAgent(
        deps.db,
        profile,
        { sessionId: POLLING_SESSION, replicaId: deps.replicaId },
        [],
        now(),
      );
      const claimed = await pollForTask(
        {
          agentId: profile.agentId,
          taskTypes: profile.taskTypes.map((t) => String(t.type)),
          labels: { ...profile.detectedLabels, ...profile.labels },
          slots: profile.slots,
        },
        req.waitMs,
        deps,
        context.signal,
      );
      if (claimed === undefined) return {};
      const [ready] = deps.secrets
        ? await deps.secrets.attach(profile.agentId, [claimed])
        : [claimed];
      // Its secrets could not be resolved: the attempt is failed for it.
      if (ready === undefined) return {};
      // The caller went away meanwhile: nobody has the task. (When that
      // goes unnoticed, the lease is not acknowledged until the worker's
      // first call on it, so its ack deadline gives the task back.)
      if (context.signal.aborted) {
        await giveBack(deps, profile.agentId, ready);
        return {};
      }
      return {
        assignment: toAssignment(
          ready,
          deps.ackDeadlineMs,
          hello.acceptsJsonValues,
        ),
      };
    },

    async renewLease(req) {
      const ref = leaseRefOf(req.lease, "lease");
      const holder = await acknowledgedBy(deps, ref, "lease");
      const [stale] = await renewLeases(deps.db, holder, [ref], now());
      if (stale) throw notHeld(ref, "lease");
      const [renewed] = await readLeases(deps.db, sql`id = ${ref.leaseId}`);
      return {
        expiresAt: renewed
          ? timestampFromDate(new Date(renewed.expires_at))
          : undefined,
      };
    },

    async completeLease(req) {
      await endLease(deps, req.result, "complete");
      return {};
    },

    async failLease(req) {
      await endLease(deps, req.result, "fail");
      return {};
    },

    async appendLogs(req) {
      const lines = toLogLines(req.lines, now(), WORKER_LINES);
      checkRepeatedSequences(req.lines);
      const ref = leaseRefOf(req.lease, "lease");
      const holder = await acknowledgedBy(deps, ref, "lease");
      const held = await appendTaskLogs(deps.db, holder, ref, lines);
      if (!held) throw notHeld(ref, "lease");
      return {};
    },

    async listLeases(req) {
      const conditions = [
        req.agentId === "" ? undefined : sql`agent_id = ${req.agentId}`,
        req.runId === ""
          ? undefined
          : sql`run_id = ${requireUuid("run_id", req.runId)}`,
      ].filter((c) => c !== undefined);
      const where =
        conditions.length === 0 ? sql`true` : sql.join(conditions, sql` AND `);
      const rows = await readLeases(deps.db, where, {
        limit: MAX_LISTED_LEASES,
      });
      return { leases: rows.map(toLease) };
    },

    async revokeLease(req) {
      const leaseId = requireUuid("lease_id", req.leaseId);
      const outcome = await revokeLease(deps.db, leaseId, req.reason, now());
      if ("notFound" in outcome) {
        throw new ConnectError(`lease ${leaseId} not found`, Code.NotFound);
      }
      if ("notHeld" in outcome) {
        throw new ConnectError(
          `lease ${leaseId} is not held (it is ${outcome.notHeld.state})`,
          Code.FailedPrecondition,
        );
      }
      deps.dispatcher.queueChanged();
      return { lease: toLease(outcome.revoked) };
    },
  };
}

/** Records a CompleteLease's success or a FailLease's failure. */
async function endLease(
  deps: LeaseServiceDeps,
  result: Result | undefined,
  call: "complete" | "fail",
): Promise<void> {
  if (!result) throw invalidArgument("result", "is required");
  const ref = leaseRefOf(result.lease, "result.lease");
  const outcome =
    result.outcome === AttemptOutcome.UNSPECIFIED
      ? call === "complete"
        ? AttemptOutcome.SUCCESS
        : AttemptOutcome.FAILED
      : result.outcome;
  if (call === "complete" && outcome !== AttemptOutcome.SUCCESS) {
    throw invalidArgument(
      "result.outcome",
      `CompleteLease records a SUCCESS, not ${AttemptOutcome[outcome]}: use FailLease`,
    );
  }
  if (call === "fail" && outcome === AttemptOutcome.SUCCESS) {
    throw invalidArgument(
      "result.outcome",
      "FailLease records a failure, not SUCCESS: use CompleteLease",
    );
  }
  const attempt = toAttemptResult(
    { ...result, outcome },
    ref,
    new Date(deps.clock.now()),
  );
  if (!attempt) {
    throw invalidArgument(
      "result.outcome",
      `${AttemptOutcome[outcome] ?? outcome} is not an outcome an attempt ends with`,
    );
  }
  const holder = await holderOf(deps.db, ref, "result.lease");
  const verdict = await recordResult(
    deps.db,
    holder,
    attempt,
    new Date(deps.clock.now()),
  );
  if (!verdict.accepted) {
    throw new ConnectError(
      `result.lease: ${ref.leaseId} was not recorded: ${verdict.reason}`,
      Code.FailedPrecondition,
    );
  }
  deps.dispatcher.queueChanged();
}

/**
 * An assignment the call claimed but could not hand over (its caller went
 * away): back to the queue, without using up an attempt or counting as
 * one the worker would not start ({@link RETURNED}).
 */
async function giveBack(
  deps: LeaseServiceDeps,
  agentId: string,
  assignment: ClaimedAssignment,
): Promise<void> {
  try {
    await recordResult(
      deps.db,
      agentId,
      {
        leaseId: assignment.leaseId,
        fencingToken: assignment.fencingToken,
        outcome: "LOST",
        error: "the polling worker had stopped waiting",
        retryable: true,
        retryClass: RETURNED,
        requeue: true,
      },
      new Date(deps.clock.now()),
    );
    deps.dispatcher.queueChanged();
  } catch (error) {
    // The lease's expiry takes it back all the same.
    deps.logger.warn(
      { err: error, lease_id: assignment.leaseId },
      "assignment not given back",
    );
  }
}

/**
 * A polling worker may not use the id of an agent connected with a
 * stream: its calls would overwrite that agent's record.
 */
async function refuseStreamingAgent(
  deps: LeaseServiceDeps,
  agentId: string,
): Promise<void> {
  const [row] = await deps.db
    .select()
    .from(agents)
    .where(eq(agents.id, agentId));
  if (
    !row ||
    row.sessionId === null ||
    row.sessionId === POLLING_SESSION ||
    row.state === "DISCONNECTED"
  ) {
    return;
  }
  const gone = await replicasGone(deps.db, [row], deps.clock.now());
  if (agentGone(row, gone, deps.clock.now())) return;
  throw new ConnectError(
    `worker.agent_id: agent ${agentId} is connected with a stream; a polling worker needs an id of its own`,
    Code.FailedPrecondition,
  );
}

function leaseRefOf(
  message: LeaseRefMessage | undefined,
  field: string,
): LeaseRef {
  if (!message) throw invalidArgument(field, "is required");
  requireUuid(`${field}.lease_id`, message.leaseId);
  return fromLeaseRef(message);
}

/**
 * The lease's holder, having acknowledged the lease: a worker's first
 * call on a lease says it received it, and its attempt runs.
 */
async function acknowledgedBy(
  deps: LeaseServiceDeps,
  ref: LeaseRef,
  field: string,
): Promise<string> {
  const holder = await holderOf(deps.db, ref, field);
  await acknowledgeLeases(deps.db, holder, [ref], new Date(deps.clock.now()));
  return holder;
}

/** The agent that holds the lease; NotFound for a lease that never was. */
async function holderOf(db: Db, ref: LeaseRef, field: string): Promise<string> {
  const [row] = await db
    .select({ agentId: leases.agentId })
    .from(leases)
    .where(eq(leases.id, ref.leaseId));
  if (!row) {
    throw new ConnectError(
      `${field}: lease ${ref.leaseId} not found`,
      Code.NotFound,
    );
  }
  return row.agentId;
}

function notHeld(ref: LeaseRef, field: string): ConnectError {
  return new ConnectError(
    `${field}: lease ${ref.leaseId} (fencing token ${ref.fencingToken}) is no longer held: stop the attempt`,
    Code.FailedPrecondition,
  );
}
