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
        // The agent reads SessionResponse.batch (see SessionLoop).
        acceptsBatches: true,
        // It reads Assignment.config_json and context_json (see withJsonValues).
        acceptsJsonValues: true,
      },
    },
  });
}
