import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AsyncQueue, type Logger, sessionBatches } from "../../core/index.js";
import {
  type Result,
  type SessionRequest,
  type SessionResponse,
  SessionResponseSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import type { LeaseRef } from "../leases/acknowledge-lease.js";
import type { ResultVerdict } from "../leases/record-result.js";
import { AgentCredit } from "./agent-credit.js";
import type { AgentReads, AgentSessionDeps } from "./agent-session-deps.js";
import {
  type AttemptReporting,
  appendLogChunk,
  appendMetricBatch,
  recordRejection,
} from "./attempt-reports.js";
import { markDraining } from "./mark-draining.js";
import { readInBatches } from "./read-in-batches.js";
import {
  type AgentProfile,
  disconnectAgent,
  registerAgent,
} from "./register-agent.js";
import {
  assignmentMessage,
  fromLeaseRef,
  leaseRef,
} from "./session-messages.js";
import {
  type SettlingSession,
  settleSessionBatch,
} from "./settle-session-batch.js";
import {
  notifySessionStarted,
  supersedeOlderSession,
} from "./supersede-session.js";
import { unpackBatch } from "./unpack-batch.js";

/** Several responses as one batch message (see Hello.accepts_batches). */
const BATCHES = sessionBatches<SessionResponse>((messages) => ({
  $typeName: "deerflow.v1.SessionResponse",
  message: {
    case: "batch",
    value: { $typeName: "deerflow.v1.SessionResponseBatch", messages },
  },
}));

/**
 * Most messages of one session handled as one batch (one transaction).
 * A short task is two messages (its result carries its acknowledgement),
 * and a session settles one batch at a time, so this bounds the tasks an
 * agent finishes per settle: at 256 it held a 4 × 256-slot fleet to 128
 * tasks per transaction, and throughput to about 4,000 tasks/s.
 */
const MAX_BATCH = 1024;

/** One agent's session on this replica. */
export class AgentSession implements SettlingSession {
  readonly sessionId = randomUUID();
  private readonly outgoing = new AsyncQueue<SessionResponse>();
  private readonly credit = new AgentCredit();
  private cordoned = false;
  private draining = false;
  /** Ended from here (end()): the agent's further messages are not read. */
  private ended = false;
  private readonly log: Logger;
  readonly taskTypes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: Readonly<JsonObject>;

  constructor(
    private readonly profile: AgentProfile,
    private readonly deps: AgentSessionDeps,
    /** Where the agent's stream comes from, "address:port". */
    readonly peer: string,
    /** What the agent's Hello said it reads besides the basics. */
    private readonly reads: AgentReads = { batches: false, jsonValues: false },
  ) {
    this.taskTypes = profile.taskTypes.map((t) => String(t.type));
    this.labels = { ...profile.detectedLabels, ...profile.labels };
    this.resources = profile.resources;
    this.log = deps.logger.child({
      agent_id: profile.agentId,
      agent_name: profile.name,
      session_id: this.sessionId,
    });
  }

  get agentId(): string {
    return this.profile.agentId;
  }

  get name(): string {
    return this.profile.name;
  }

  accepting(): boolean {
    return (
      !this.cordoned &&
      !this.draining &&
      !this.credit.draining &&
      !this.outgoing.isClosed
    );
  }

  freeSlots(): number {
    return this.credit.freeSlots();
  }

  deliver(assignments: readonly ClaimedAssignment[]): void {
    this.credit.assigned(assignments.length);
    for (const a of assignments) {
      // One per task: built as create() would, without its reflection.
      this.outgoing.push({
        $typeName: "deerflow.v1.SessionResponse",
        message: {
          case: "assignment",
          value: assignmentMessage(
            a,
            this.deps.ackDeadlineMs,
            this.reads.jsonValues,
          ),
        },
      });
    }
  }

  /** Tells the agent to stop an attempt. */
  cancel(lease: LeaseRef, reason: string): void {
    this.send({ case: "cancel", value: { lease: leaseRef(lease), reason } });
  }

  setCordoned(cordoned: boolean): void {
    this.cordoned = cordoned;
    if (!cordoned) this.deps.dispatcher.wake();
  }

  drain(gracePeriodMs: number): void {
    this.draining = true;
    this.send({ case: "drain", value: { gracePeriodMs } });
  }

  /**
   * Ends the stream with `error` now: no more assignments, and what the
   * agent sends after it is not read. Its leases stay as they are.
   */
  end(error: ConnectError): void {
    this.ended = true;
    this.deps.dispatcher.remove(this.sessionId);
    this.outgoing.close(error);
  }

  async *run(
    held: readonly LeaseRef[],
    requests: AsyncIterator<SessionRequest>,
  ): AsyncIterable<SessionResponse> {
    const { db, clock, registry } = this.deps;
    const registration = await registerAgent(
      db,
      this.profile,
      { sessionId: this.sessionId, replicaId: this.deps.replicaId },
      held,
      new Date(clock.now()),
    );
    this.cordoned = registration.cordoned;
    if (registration.returned > 0) this.deps.dispatcher.queueChanged();
    this.send({
      case: "welcome",
      value: {
        agentId: this.profile.agentId,
        sessionId: this.sessionId,
        heartbeatIntervalMs: this.deps.heartbeatIntervalMs,
        leaseTtlMs: this.deps.leaseTtlMs,
        serverVersion: this.deps.serverVersion,
        reattachedLeases: registration.reattached.map(leaseRef),
        acceptsBatches: true,
      },
    });
    supersedeOlderSession(this, registry, this.deps.logger);
    registry.set(this.agentId, this);
    this.deps.dispatcher.add(this);
    notifySessionStarted(db, this).catch((error: unknown) =>
      this.log.warn({ err: error }, "could not tell replicas of the session"),
    );
    this.log.info(
      {
        slots: this.profile.slots,
        reattached: registration.reattached.length,
        returned: registration.returned,
      },
      "agent connected",
    );
    const reading = this.readAll(requests);
    try {
      // The welcome goes out alone; after it, whatever queues up while a
      // message is written may go as one batch.
      for await (const response of this.outgoing) {
        yield response;
        if (this.reads.batches) this.outgoing.packing ??= BATCHES;
      }
    } finally {
      this.outgoing.close();
      // An ended session's agent may not be listening: its error goes out
      // without waiting for the agent to close its side.
      if (!this.ended) await reading;
      await this.cleanUp();
    }
  }

  /**
   * Reads the agent's messages while handling them: whatever arrived while
   * the last ones were handled is handled next as one batch, so runs of
   * acknowledgements or results share a transaction (see handleBatch).
   */
  private async readAll(requests: AsyncIterator<SessionRequest>) {
    try {
      await readInBatches(requests, unpackBatch, MAX_BATCH, async (batch) => {
        if (!this.ended) await this.handleBatch(batch);
      });
      this.outgoing.close();
    } catch (error) {
      this.outgoing.close(error);
    }
  }

  /**
   * Handles a batch of the agent's messages. Acknowledgements and results
   * are settled together in one transaction (settleLeases) after the
   * other messages, which are handled in order; of several credits only
   * the last counts, since each states the agent's whole capacity.
   */
  private async handleBatch(batch: SessionRequest[]): Promise<void> {
    const acknowledgements: LeaseRef[] = [];
    const results: Result[] = [];
    let resultsSeen = false;
    const creditAt = batch.findLastIndex((r) => r.message.case === "credit");
    const credit = batch[creditAt]?.message;
    const wasDraining = this.credit.draining;
    if (credit?.case === "credit") {
      this.credit.take(credit.value, this.profile.slots);
    }
    if (this.credit.draining && !wasDraining) {
      this.log.info("agent draining");
      await markDraining(this.deps.db, this.agentId, this.sessionId);
    }
    for (const [i, request] of batch.entries()) {
      const m = request.message;
      if (m.case === "acknowledge" && m.value.lease) {
        acknowledgements.push(fromLeaseRef(m.value.lease));
      } else if (m.case === "result" && m.value.lease) {
        results.push(m.value);
        resultsSeen = true;
        if (i > creditAt) this.credit.resultSinceCredit();
      } else if (m.case === "credit") {
        // Taken above.
      } else if (m.case === "reject") {
        // In order with the acknowledgements and results before it: a
        // reject after its lease's result must find the result recorded.
        await this.settle(acknowledgements.splice(0), results.splice(0));
        await this.handle(request);
      } else {
        await this.handle(request);
      }
    }
    await this.settle(acknowledgements, results);
    if (resultsSeen) this.deps.dispatcher.roomFreed(this.sessionId);
    if (credit) this.deps.dispatcher.wake();
  }

  private settle(
    acknowledgements: readonly LeaseRef[],
    results: readonly Result[],
  ): Promise<void> {
    const freedSlots = this.credit.freedSinceCredit(this.profile.slots);
    return settleSessionBatch(
      this,
      this.deps,
      { acknowledgements, results, freedSlots },
      this.now(),
    );
  }

  private async cleanUp(): Promise<void> {
    this.deps.dispatcher.remove(this.sessionId);
    if (this.deps.registry.get(this.agentId) === this) {
      this.deps.registry.delete(this.agentId);
    }
    try {
      await disconnectAgent(this.deps.db, this.agentId, this.sessionId);
    } catch (error) {
      this.log.warn({ err: error }, "could not mark agent disconnected");
    }
    this.log.info("agent disconnected");
  }

  private send(
    message: MessageInitShape<typeof SessionResponseSchema>["message"],
  ): void {
    this.outgoing.push(create(SessionResponseSchema, { message }));
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }

  private reporting(): AttemptReporting {
    return {
      db: this.deps.db,
      dispatcher: this.deps.dispatcher,
      agentId: this.agentId,
      log: this.log,
      now: this.now(),
    };
  }

  private async handle(request: SessionRequest): Promise<void> {
    const m = request.message;
    switch (m.case) {
      case "credit":
        this.credit.take(m.value, this.profile.slots);
        this.deps.dispatcher.wake();
        return;
      case "heartbeat": {
        const stale = await this.deps.heartbeats.record({
          agentId: this.agentId,
          refs: m.value.leases.map(fromLeaseRef),
          now: this.now(),
        });
        this.send({
          case: "heartbeatAck",
          value: { staleLeases: stale.map(leaseRef) },
        });
        return;
      }
      case "acknowledge":
      case "result":
        // With a lease, these are settled in batches (handleBatch).
        this.log.warn({ message: m.case }, "message without lease ignored");
        return;
      case "reject":
        await recordRejection(this.reporting(), m.value);
        return;
      case "logChunk": {
        const stale = await appendLogChunk(this.reporting(), m.value);
        if (stale) this.cancel(stale, "stale");
        return;
      }
      case "metricBatch":
        await appendMetricBatch(this.reporting(), m.value);
        return;
      case "hello":
        throw new ConnectError(
          "message: hello may only be the first message",
          Code.InvalidArgument,
        );
      default:
        throw new ConnectError(
          "message: empty session message",
          Code.InvalidArgument,
        );
    }
  }

  /** Tells the agent whether its result was recorded. */
  answerResult(ref: LeaseRef, verdict: ResultVerdict): void {
    // One per task: built as create() would, without its reflection.
    this.outgoing.push({
      $typeName: "deerflow.v1.SessionResponse",
      message: {
        case: "resultAck",
        value: {
          $typeName: "deerflow.v1.ResultAck",
          lease: leaseRef(ref),
          accepted: verdict.accepted,
          reason: verdict.accepted ? "" : verdict.reason,
        },
      },
    });
    if (!verdict.accepted) {
      // A killed or revoked attempt's own result is refused as a matter
      // of course (the task ended otherwise); it still records the stop.
      const routine = verdict.reason === "lease revoked";
      this.log[routine ? "info" : "warn"](
        { lease_id: ref.leaseId, reason: verdict.reason },
        "result refused",
      );
    }
  }
}
