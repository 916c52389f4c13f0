import type { ConnectError } from "@connectrpc/connect";
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
import { acknowledgementBatcher } from "./acknowledgement-batcher.js";
import type { ResolvedAgentOptions } from "./agent-options.js";
import { AgentSupersededError } from "./agent-superseded-error.js";
import { readJsonValues } from "./assignment-values.js";
import { Attempt } from "./attempt.js";
import { attemptAbortGraceMs } from "./attempt-abort-grace.js";
import { AttemptTable } from "./attempt-table.js";
import type { Batcher } from "./batcher.js";
import type { CloseOptions } from "./close-options.js";
import type { HostFacts } from "./detect-labels.js";
import {
  DEFAULT_DRAIN_GRACE_MS,
  DRAIN_ACK_WAIT_MS,
  drainAttempts,
  within,
} from "./drain-attempts.js";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  runHeartbeats,
} from "./heartbeat-loop.js";
import { type AgentProcess, buildHello } from "./hello.js";
import { LazyChildLogger } from "./lazy-child-logger.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { withAgentMarks } from "./leftover-processes.js";
import { Outbox } from "./outbox.js";
import { holdingMaxDelayMs } from "./reconnect-delay.js";
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
  /**
   * This process's token and its dead predecessor's on the state dir
   * (Hello.process_token, predecessor_token; see lockStateDir).
   */
  process: AgentProcess;
  options: ResolvedAgentOptions;
  plugins: ReadonlyMap<string, Plugin>;
  facts: HostFacts;
  clock: Clock;
  /** Scoped to the agent (agent_id). */
  logger: Logger;
  renderConfig: RenderTaskConfig;
}

/**
 * The agent: holds the session, runs assignments as attempts in its slots,
 * renews their leases (and kills attempts whose lease lapsed; see
 * LeaseKeeper), and delivers their results (SPEC §4-§5).
 */
export class Agent implements SessionHandler {
  /** Resolves once the first Welcome arrives. */
  readonly ready: Promise<void>;
  /**
   * Resolves once the agent has stopped; rejects when it stopped by
   * itself for an error (another process took its agent id).
   */
  readonly closed: Promise<void>;
  private settleReady: (error?: Error) => void = () => {};
  private settleClosed: (error?: Error) => void = () => {};
  /** Why the agent stopped by itself, if it did. */
  private stopError: Error | undefined;
  private readonly attempts = new AttemptTable();
  private readonly outbox = new Outbox();
  private readonly leases: LeaseKeeper;
  private readonly loop: SessionLoop;
  private readonly sender = new SessionSender();
  /** Acknowledgements waiting, briefly, to go out with their results. */
  private readonly acknowledgements: Batcher<LeaseRef>;
  private draining = false;
  /** A credit is scheduled and not yet sent (sendCredit). */
  private creditDue = false;
  /** Assignments received on the current session, reported with credits. */
  private assignmentsReceived = 0;
  private drained: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
  private readonly abortGraceMs = attemptAbortGraceMs();

  constructor(private readonly parts: AgentParts) {
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (error) => (error ? reject(error) : resolve());
    });
    // A caller that never awaits ready must not see an unhandled rejection.
    this.ready.catch(() => {});
    this.closed = new Promise((resolve, reject) => {
      this.settleClosed = (error) => (error ? reject(error) : resolve());
    });
    this.closed.catch(() => {});
    this.loop = new SessionLoop({
      serverUrl: parts.options.serverUrl,
      reconnect: parts.options.reconnect,
      clock: parts.clock,
      logger: parts.logger,
    });
    this.acknowledgements = acknowledgementBatcher((leases) => {
      for (const lease of leases) this.send("acknowledge", { lease });
    });
    this.leases = new LeaseKeeper({
      clock: parts.clock,
      logger: parts.logger,
      attempts: this.attempts,
      outbox: this.outbox,
    });
  }

  start(): void {
    this.parts.logger.info(
      { slots: this.parts.options.slots, server: this.parts.options.serverUrl },
      "agent starting",
    );
    this.leases.start();
    this.loop.start(this);
  }

  /** Takes no more work, lets attempts finish, then closes. */
  drain(gracePeriodMs = DEFAULT_DRAIN_GRACE_MS): Promise<void> {
    this.drained ??= this.runDrain(gracePeriodMs);
    return this.drained;
  }

  /** Stops at once: kills running attempts and ends the session. */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.runClose(options.resultWaitMs ?? 0);
    return this.closing;
  }

  hello(): SessionRequest {
    const { options } = this.parts;
    return buildHello({
      agentId: this.parts.id,
      name: options.name,
      version: this.parts.version,
      labels: options.labels,
      facts: this.parts.facts,
      slots: options.slots,
      plugins: this.parts.plugins.values(),
      heldLeases: this.leases.helloLeases(),
      process: this.parts.process,
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
        this.leases.cancelled(message.value);
        break;
      case "resultAck":
        this.onResultAck(message.value.lease, message.value.accepted);
        break;
      case "heartbeatAck":
        this.leases.heartbeatAcked(message.value.staleLeases);
        break;
      case "drain":
        void this.drain(message.value.gracePeriodMs || undefined);
        break;
      default:
        this.parts.logger.debug("unknown session message ignored");
    }
  }

  reconnectCeilingMs(): number | undefined {
    if (!this.leases.holdsAny()) return undefined;
    return holdingMaxDelayMs(
      this.parts.options.reconnect,
      this.heartbeatIntervalMs,
    );
  }

  ended(stream: SessionStream): void {
    this.sender.detach(stream);
    this.leases.sessionEnded();
  }

  superseded(error: ConnectError): void {
    this.stopError = new AgentSupersededError(this.parts.id, error);
    this.parts.logger.error(
      { err: error.rawMessage },
      "another process runs as this agent id: stopping",
    );
    // Its attempts' leases stay with the agent id: killed here, they run
    // out and are retried, never run twice at once.
    void this.close();
  }

  private onWelcome(welcome: Welcome, stream: SessionStream): void {
    this.heartbeatIntervalMs =
      welcome.heartbeatIntervalMs > 0
        ? welcome.heartbeatIntervalMs
        : DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.leases.welcomed(welcome);
    this.assignmentsReceived = 0;
    this.parts.logger.info(
      {
        session_id: welcome.sessionId,
        reattached: welcome.reattachedLeases.length,
        unacknowledged_results: this.outbox.size,
      },
      "session welcomed",
    );
    this.sender.attach(stream);
    for (const result of this.outbox.pending()) this.send("result", result);
    this.sendCredit();
    void runHeartbeats({
      clock: this.parts.clock,
      intervalMs: this.heartbeatIntervalMs,
      signal: stream.signal,
      beat: () => this.beat(),
    });
    this.settleReady();
  }

  private onAssignment(received: Assignment): void {
    this.assignmentsReceived += 1;
    const lease = received.lease;
    if (lease === undefined) {
      this.parts.logger.warn("assignment without a lease ignored");
      return;
    }
    if (this.attempts.get(lease.leaseId) !== undefined) {
      // A repeated assignment of a running attempt: acknowledge it again.
      this.send("acknowledge", { lease });
      return;
    }
    const assignment = readJsonValues(received);
    const plugin = this.parts.plugins.get(received.type);
    const refusal =
      typeof assignment === "string"
        ? assignment
        : this.draining
          ? "agent is draining"
          : plugin === undefined
            ? `task type "${received.type}" is not provided by this agent`
            : this.freeSlots() < 1
              ? "no free slot"
              : undefined;
    if (
      refusal !== undefined ||
      plugin === undefined ||
      typeof assignment === "string"
    ) {
      this.parts.logger.info(
        { lease_id: lease.leaseId, reason: refusal },
        "assignment rejected",
      );
      this.send("reject", { lease, reason: refusal });
      return;
    }
    this.acknowledgements.push(lease);
    this.leases.assigned(assignment);
    this.startAttempt(assignment, lease, plugin);
  }

  private startAttempt(
    assignment: Assignment,
    lease: LeaseRef,
    plugin: Plugin,
  ): void {
    const agent = this;
    const attempt = new Attempt({
      assignment: withAgentMarks(assignment, this.parts.id),
      plugin,
      workRoot: this.parts.options.workRoot,
      clock: this.parts.clock,
      // Made when the attempt first logs (see LazyChildLogger).
      logger: new LazyChildLogger(this.parts.logger, {
        run_id: assignment.runId,
        task_id: assignment.taskId,
        attempt: assignment.attempt,
        lease_id: lease.leaseId,
      }),
      renderConfig: this.parts.renderConfig,
      abortGraceMs: this.abortGraceMs,
      // Methods, not named arrows, which tsx renames one by one (see
      // Attempt's context).
      sendLogs(lines) {
        if (!agent.attempts.get(lease.leaseId)?.dropped) {
          agent.sender.sendStreamed("logChunk", { lease, lines });
        }
      },
      sendMetrics(points) {
        if (!agent.attempts.get(lease.leaseId)?.dropped) {
          agent.sender.sendStreamed("metricBatch", { lease, points });
        }
      },
    });
    const running = this.attempts.run(attempt, (result) => {
      this.leases.attemptEnded(lease.leaseId);
      if (!running.dropped) {
        this.outbox.add(result);
        // A result never goes ahead of its acknowledgement: this lease's
        // goes with it, and the control plane records both as one
        // transition. The others linger on for their own results.
        const own = this.acknowledgements.take(
          (held) => held.leaseId === lease.leaseId,
        );
        for (const held of own) {
          this.send("acknowledge", { lease: held });
        }
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

  private beat(): void {
    // Only on a welcomed stream: the control plane answers each heartbeat
    // it gets, and a renewal is counted from each answer.
    if (!this.sender.connected) return;
    const leases = this.leases.heartbeatLeases();
    this.send("heartbeat", { leases });
    this.parts.logger.debug({ leases: leases.length }, "heartbeat sent");
  }

  private freeSlots(): number {
    if (this.draining) return 0;
    return Math.max(0, this.parts.options.slots - this.attempts.size);
  }

  /**
   * Sends a credit once the current burst of work is handled: a busy
   * agent acknowledges, starts, finishes and reports many attempts in one
   * turn of the event loop, and each credit states the whole capacity, so
   * one after them all says what one after each would.
   */
  private sendCredit(): void {
    if (this.creditDue) return;
    this.creditDue = true;
    setImmediate(() => {
      this.creditDue = false;
      this.send("credit", {
        freeSlots: this.freeSlots(),
        assignmentsReceived: BigInt(this.assignmentsReceived),
        draining: this.draining,
      });
    });
  }

  private send<C extends RequestCase>(kind: C, value: RequestValue<C>): void {
    this.sender.send(kind, value);
  }

  private async runDrain(gracePeriodMs: number): Promise<void> {
    this.draining = true;
    this.sendCredit();
    await drainAttempts({
      clock: this.parts.clock,
      logger: this.parts.logger,
      attempts: this.attempts,
      outbox: this.outbox,
      gracePeriodMs,
      ackWaitMs: DRAIN_ACK_WAIT_MS,
    });
    await this.close();
  }

  private async runClose(resultWaitMs: number): Promise<void> {
    this.draining = true;
    this.attempts.abortAll("closed");
    await this.attempts.allDone();
    // Only with a stream to deliver them on: cut off, they wait in vain.
    if (resultWaitMs > 0 && this.sender.connected && this.outbox.size > 0) {
      await within(this.parts.clock, resultWaitMs, this.outbox.whenEmpty());
    }
    await this.leases.stop();
    await this.loop.close();
    this.settleReady(new Error("agent closed before it was welcomed"));
    this.parts.logger.info("agent closed");
    this.settleClosed(this.stopError);
  }
}
