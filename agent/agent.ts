import type { Logger } from "pino";
import type { Clock } from "../core/index.js";
import type {
  Assignment,
  LeaseRef,
  SessionRequest,
  SessionResponse,
  Welcome,
} from "../gen/deerflow/v1/agent_pb.js";
import type { Plugin } from "../plugin-sdk/index.js";
import type { ResolvedAgentOptions } from "./agent-options.js";
import { Attempt } from "./attempt.js";
import { AttemptTable } from "./attempt-table.js";
import type { HostFacts } from "./detect-labels.js";
import { buildHello } from "./hello.js";
import { Outbox } from "./outbox.js";
import type { RenderTaskConfig } from "./render-task-config.js";
import {
  type SessionHandler,
  SessionLoop,
  type SessionStream,
} from "./session-loop.js";
import {
  type RequestCase,
  type RequestValue,
  SessionSender,
} from "./session-sender.js";

/** What an Agent is made of; startAgent gathers it. */
export interface AgentParts {
  id: string;
  version: string;
  options: ResolvedAgentOptions;
  plugins: ReadonlyMap<string, Plugin>;
  facts: HostFacts;
  clock: Clock;
  /** Scoped to the agent (agent_id). */
  logger: Logger;
  renderConfig: RenderTaskConfig;
}

/** When the Welcome names none. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/** When drain() or a Drain names none. */
const DEFAULT_DRAIN_GRACE_MS = 30_000;
/** How long a drain waits for the last results to be acknowledged. */
const DRAIN_ACK_WAIT_MS = 30_000;
/** How long a plugin may take to stop after its signal aborts. */
const ABORT_GRACE_MS = 30_000;

/**
 * The agent: holds the session, runs assignments as attempts in its slots,
 * renews their leases, and delivers their results (SPEC §4-§5).
 */
export class Agent implements SessionHandler {
  /** Resolves once the first Welcome arrives. */
  readonly ready: Promise<void>;
  /** Resolves once the agent has stopped. */
  readonly closed: Promise<void>;
  private settleReady: (error?: Error) => void = () => {};
  private markClosed: () => void = () => {};
  private readonly attempts = new AttemptTable();
  private readonly outbox = new Outbox();
  private readonly loop: SessionLoop;
  private readonly sender = new SessionSender();
  private draining = false;
  private drained: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;

  constructor(private readonly parts: AgentParts) {
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (error) => (error ? reject(error) : resolve());
    });
    // A caller that never awaits ready must not see an unhandled rejection.
    this.ready.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.loop = new SessionLoop({
      serverUrl: parts.options.serverUrl,
      reconnect: parts.options.reconnect,
      clock: parts.clock,
      logger: parts.logger,
    });
  }

  start(): void {
    this.parts.logger.info(
      { slots: this.parts.options.slots, server: this.parts.options.serverUrl },
      "agent starting",
    );
    this.loop.start(this);
  }

  /** Takes no more work, lets attempts finish, then closes. */
  drain(gracePeriodMs = DEFAULT_DRAIN_GRACE_MS): Promise<void> {
    this.drained ??= this.runDrain(gracePeriodMs);
    return this.drained;
  }

  /** Stops at once: kills running attempts and ends the session. */
  close(): Promise<void> {
    this.closing ??= this.runClose();
    return this.closing;
  }

  hello(): SessionRequest {
    const held = this.attempts.heldLeases();
    for (const result of this.outbox.pending()) {
      if (result.lease !== undefined) held.push(result.lease);
    }
    const { options } = this.parts;
    return buildHello({
      agentId: this.parts.id,
      name: options.name,
      version: this.parts.version,
      labels: options.labels,
      facts: this.parts.facts,
      slots: options.slots,
      plugins: this.parts.plugins.values(),
      heldLeases: held,
    });
  }

  receive(response: SessionResponse, stream: SessionStream): void {
    const message = response.message;
    switch (message.case) {
      case "welcome":
        this.onWelcome(message.value, stream);
        break;
      case "assignment":
        this.onAssignment(message.value);
        break;
      case "cancel":
        this.abortLease(message.value.lease, "killed", "cancel");
        break;
      case "resultAck":
        this.onResultAck(message.value.lease, message.value.accepted);
        break;
      case "heartbeatAck":
        for (const lease of message.value.staleLeases) this.dropStale(lease);
        break;
      case "drain":
        void this.drain(message.value.gracePeriodMs || undefined);
        break;
      default:
        this.parts.logger.debug("unknown session message ignored");
    }
  }

  ended(stream: SessionStream): void {
    this.sender.detach(stream);
  }

  private onWelcome(welcome: Welcome, stream: SessionStream): void {
    this.heartbeatIntervalMs =
      welcome.heartbeatIntervalMs > 0
        ? welcome.heartbeatIntervalMs
        : DEFAULT_HEARTBEAT_INTERVAL_MS;
    const reattached = new Set(
      welcome.reattachedLeases.map((lease) => lease.leaseId),
    );
    this.attempts.abortAll("lost", reattached);
    this.parts.logger.info(
      {
        session_id: welcome.sessionId,
        reattached: reattached.size,
        unacknowledged_results: this.outbox.size,
      },
      "session welcomed",
    );
    this.sender.attach(stream);
    for (const result of this.outbox.pending()) this.send("result", result);
    this.sendCredit();
    void this.heartbeat(stream);
    this.settleReady();
  }

  private onAssignment(assignment: Assignment): void {
    const lease = assignment.lease;
    if (lease === undefined) {
      this.parts.logger.warn("assignment without a lease ignored");
      return;
    }
    if (this.attempts.get(lease.leaseId) !== undefined) {
      // A repeated assignment of a running attempt: acknowledge it again.
      this.send("acknowledge", { lease });
      return;
    }
    const plugin = this.parts.plugins.get(assignment.type);
    const refusal = this.draining
      ? "agent is draining"
      : plugin === undefined
        ? `task type "${assignment.type}" is not provided by this agent`
        : this.freeSlots() < 1
          ? "no free slot"
          : undefined;
    if (refusal !== undefined || plugin === undefined) {
      this.parts.logger.info(
        { lease_id: lease.leaseId, reason: refusal },
        "assignment rejected",
      );
      this.send("reject", { lease, reason: refusal });
      return;
    }
    this.send("acknowledge", { lease });
    this.startAttempt(assignment, lease, plugin);
  }

  private startAttempt(
    assignment: Assignment,
    lease: LeaseRef,
    plugin: Plugin,
  ): void {
    const dropped = () => this.attempts.get(lease.leaseId)?.dropped === true;
    const attempt = new Attempt({
      assignment,
      plugin,
      workRoot: this.parts.options.workRoot,
      clock: this.parts.clock,
      logger: this.parts.logger.child({
        run_id: assignment.runId,
        task_id: assignment.taskId,
        attempt: assignment.attempt,
        lease_id: lease.leaseId,
      }),
      renderConfig: this.parts.renderConfig,
      abortGraceMs: ABORT_GRACE_MS,
      sendLogs: (lines) => {
        if (!dropped()) this.sender.sendStreamed("logChunk", { lease, lines });
      },
      sendMetrics: (points) => {
        if (!dropped()) {
          this.sender.sendStreamed("metricBatch", { lease, points });
        }
      },
    });
    const running = this.attempts.run(attempt, (result) => {
      if (!running.dropped) {
        this.outbox.add(result);
        this.send("result", result);
      }
      this.sendCredit();
    });
    this.sendCredit();
  }

  private onResultAck(lease: LeaseRef | undefined, accepted: boolean): void {
    if (lease === undefined || !this.outbox.remove(lease.leaseId)) return;
    this.parts.logger.debug(
      { lease_id: lease.leaseId, accepted },
      "result acknowledged",
    );
  }

  private dropStale(lease: LeaseRef): void {
    this.outbox.remove(lease.leaseId);
    const running = this.attempts.get(lease.leaseId);
    if (running === undefined) return;
    running.dropped = true;
    this.abortLease(lease, "stale", "heartbeat");
  }

  private abortLease(
    lease: LeaseRef | undefined,
    reason: "killed" | "stale",
    source: string,
  ): void {
    const running = lease && this.attempts.get(lease.leaseId);
    if (running === undefined) {
      this.parts.logger.debug({ source }, "abort of an unknown lease ignored");
      return;
    }
    running.attempt.abort(reason);
  }

  private async heartbeat(stream: SessionStream): Promise<void> {
    const { clock, logger } = this.parts;
    while (!stream.signal.aborted) {
      await clock.sleep(this.heartbeatIntervalMs, stream.signal);
      if (stream.signal.aborted) return;
      const leases = this.attempts.heldLeases();
      this.send("heartbeat", { leases });
      logger.debug({ leases: leases.length }, "heartbeat sent");
    }
  }

  private freeSlots(): number {
    if (this.draining) return 0;
    return Math.max(0, this.parts.options.slots - this.attempts.size);
  }

  private sendCredit(): void {
    this.send("credit", { freeSlots: this.freeSlots() });
  }

  private send<C extends RequestCase>(kind: C, value: RequestValue<C>): void {
    this.sender.send(kind, value);
  }

  private async runDrain(gracePeriodMs: number): Promise<void> {
    const { clock, logger } = this.parts;
    this.draining = true;
    this.sendCredit();
    logger.info(
      { grace_period_ms: gracePeriodMs, running: this.attempts.size },
      "agent draining",
    );
    const grace = new AbortController();
    await Promise.race([
      this.attempts.allDone(),
      clock.sleep(gracePeriodMs, grace.signal),
    ]);
    grace.abort();
    if (this.attempts.size > 0) {
      logger.warn(
        { running: this.attempts.size },
        "drain grace period over; killing attempts",
      );
      this.attempts.abortAll("drained");
      await this.attempts.allDone();
    }
    const ackWait = new AbortController();
    await Promise.race([
      this.outbox.whenEmpty(),
      clock.sleep(DRAIN_ACK_WAIT_MS, ackWait.signal),
    ]);
    ackWait.abort();
    if (this.outbox.size > 0) {
      logger.error(
        { unacknowledged_results: this.outbox.size },
        "drain ended with results the control plane never acknowledged",
      );
    }
    await this.close();
  }

  private async runClose(): Promise<void> {
    this.draining = true;
    this.attempts.abortAll("drained");
    await this.attempts.allDone();
    await this.loop.close();
    this.settleReady(new Error("agent closed before it was welcomed"));
    this.parts.logger.info("agent closed");
    this.markClosed();
  }
}
