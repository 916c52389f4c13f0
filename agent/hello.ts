import { create } from "@bufbuild/protobuf";
import {
  type LeaseRef,
  type SessionRequest,
  SessionRequestSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import type { Plugin } from "../plugin-sdk/index.js";
import { toJsonObject } from "./attempt-result.js";
import type { HostFacts } from "./detect-labels.js";

/** Who the agent is, as its Hello tells the control plane. */
export interface HelloInput {
  agentId: string;
  name: string;
  version: string;
  /** Declared by the operator. */
  labels: Record<string, string>;
  facts: HostFacts;
  slots: number;
  plugins: Iterable<Plugin>;
  /** Leases of attempts still running or with unacknowledged results. */
  heldLeases: LeaseRef[];
  process: AgentProcess;
}

/** Which agent process says hello, and which one it found dead. */
export interface AgentProcess {
  /** Made at the process's start, the same in every hello of its life. */
  token: string;
  /**
   * The token of the process that held the state dir before and died
   * without releasing it; empty when it left cleanly or wrote none.
   */
  predecessorToken: string;
}

/** The first message of every session. */
export function buildHello(input: HelloInput): SessionRequest {
  const { resources } = input.facts;
  return create(SessionRequestSchema, {
    message: {
      case: "hello",
      value: {
        agentId: input.agentId,
        name: input.name,
        version: input.version,
        labels: input.labels,
        detectedLabels: input.facts.labels,
        resources: {
          cpuMillis: BigInt(resources.cpuMillis),
          memoryBytes: BigInt(resources.memoryBytes),
          gpus: resources.gpus.map((gpu) => ({
            index: gpu.index,
            type: gpu.type,
            memoryBytes: BigInt(gpu.memoryBytes),
          })),
          storageBytes: BigInt(resources.storageBytes),
          storageType: resources.storageType,
        },
        slots: input.slots,
        taskTypes: [...input.plugins].map((plugin) => ({
          type: plugin.type,
          pluginVersion: plugin.version,
          configSchema: toJsonObject(plugin.configSchema),
        })),
        heldLeases: input.heldLeases,
        processToken: input.process.token,
        predecessorToken: input.process.predecessorToken,
        // The agent reads SessionResponse.batch (see SessionLoop).
        acceptsBatches: true,
        // It reads Assignment.config_json and context_json (see withJsonValues).
        acceptsJsonValues: true,
      },
    },
  });
}
