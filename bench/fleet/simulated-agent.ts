import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { AsyncQueue } from "../../core/index.js";
import {
  type AgentService,
  type LeaseRef,
  type SessionRequest,
  SessionRequestSchema,
  type SessionResponse,
} from "../../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { noopConfigSchema } from "../../plugins/index.js";
import type { FleetStatsLine } from "./fleet-stats.js";

/**
 * Counters every simulated agent of a process adds to: what the process
 * reports in each stats line.
 */
export type FleetCounters = Omit<FleetStatsLine, "kind" | "firstError"> & {
  firstError: string | undefined;
};

/** Who a simulated agent says it is. */
export interface SimulatedAgentOptions {
  name: string;
  slots: number;
  labels: Record<string, string>;
}

type RequestInit = Parameters<typeof create<typeof SessionRequestSchema>>[1];

/**
 * One agent's session, without the agent: a real stream that says hello
 * (advertising the `noop` type), sends credits and a heartbeat every
 * interval the Welcome names (naming the leases it holds), acknowledges
 * each assignment and answers it with a SUCCESS result at once. It is the
 * control plane's view of an agent at a fraction of a real agent's cost,
 * so thousands fit in a few processes.
 */
export class SimulatedAgent {
  private readonly outgoing = new AsyncQueue<SessionRequest>();
  private readonly held = new Map<string, LeaseRef>();
  private readonly beatsInFlight: number[] = [];
  private received = 0;
  private timer: NodeJS.Timeout | undefined;
  private welcomed = false;

  constructor(
    private readonly options: SimulatedAgentOptions,
    private readonly counters: FleetCounters,
  ) {}

  /** Runs the session until it ends; resolves when it has. */
  async run(
    client: Client<typeof AgentService>,
    signal: AbortSignal,
    onWelcome: () => void,
  ): Promise<void> {
    this.send({ message: { case: "hello", value: this.hello() } });
    try {
      for await (const response of client.session(this.outgoing, {
        signal,
      })) {
        this.receive(response, onWelcome);
      }
      if (!signal.aborted) this.noteEnd("the control plane ended it");
    } catch (error) {
      if (!signal.aborted) this.noteEnd(String(error));
    } finally {
      if (!this.welcomed) onWelcome();
      if (this.welcomed) this.counters.connected -= 1;
      clearTimeout(this.timer);
      this.outgoing.close();
    }
  }

  private noteEnd(reason: string): void {
    if (this.welcomed) this.counters.lost += 1;
    else this.counters.failed += 1;
    this.counters.firstError ??= `${this.options.name}: ${reason}`;
  }

  private hello() {
    return {
      agentId: "",
      name: this.options.name,
      version: "bench-fleet",
      labels: this.options.labels,
      detectedLabels: { os: "linux", arch: "x64", hostname: "fleet-sim" },
      // As real agents do; it reads neither the config nor the context.
      acceptsJsonValues: true,
      slots: this.options.slots,
      taskTypes: [
        {
          type: "noop",
          pluginVersion: "1.0.0",
          configSchema: noopConfigSchema as JsonObject,
        },
      ],
    };
  }

  private receive(response: SessionResponse, onWelcome: () => void): void {
    const m = response.message;
    switch (m.case) {
      case "welcome": {
        this.welcomed = true;
        this.counters.connected += 1;
        onWelcome();
        this.credit();
        const interval = m.value.heartbeatIntervalMs || 5000;
        // Real agents start at different times; so do these heartbeats.
        this.schedule(Math.random() * interval, interval);
        return;
      }
      case "assignment": {
        this.received += 1;
        this.counters.assignments += 1;
        const lease = m.value.lease;
        if (!lease) return;
        this.held.set(lease.leaseId, lease);
        this.send({ message: { case: "acknowledge", value: { lease } } });
        this.credit();
        const now = new Date();
        const stamp = {
          seconds: BigInt(Math.floor(now.getTime() / 1000)),
          nanos: (now.getTime() % 1000) * 1e6,
        };
        this.send({
          message: {
            case: "result",
            value: {
              lease,
              outcome: AttemptOutcome.SUCCESS,
              output: {},
              startedAt: stamp,
              finishedAt: stamp,
            },
          },
        });
        return;
      }
      case "resultAck": {
        const lease = m.value.lease;
        if (lease && this.held.delete(lease.leaseId)) {
          this.counters.results += 1;
          this.credit();
        }
        return;
      }
      case "heartbeatAck": {
        const sentAt = this.beatsInFlight.shift();
        this.counters.heartbeatAcks += 1;
        if (sentAt !== undefined) {
          this.counters.ackLatenciesMs.push(performance.now() - sentAt);
        }
        return;
      }
      case "cancel": {
        const lease = m.value.lease;
        if (lease) this.held.delete(lease.leaseId);
        this.credit();
        return;
      }
      default:
        return;
    }
  }

  private schedule(delayMs: number, intervalMs: number): void {
    this.timer = setTimeout(() => {
      this.beatsInFlight.push(performance.now());
      this.counters.heartbeats += 1;
      this.send({
        message: {
          case: "heartbeat",
          value: { leases: [...this.held.values()] },
        },
      });
      this.schedule(intervalMs, intervalMs);
    }, delayMs);
  }

  private credit(): void {
    this.send({
      message: {
        case: "credit",
        value: {
          freeSlots: Math.max(0, this.options.slots - this.held.size),
          assignmentsReceived: BigInt(this.received),
        },
      },
    });
  }

  private send(init: RequestInit): void {
    this.outgoing.push(create(SessionRequestSchema, init));
  }
}
