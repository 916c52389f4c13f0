import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AgentService } from "../gen/deerflow/v1/agent_pb.js";
import { RunService } from "../gen/deerflow/v1/run_pb.js";
import { WorkflowService } from "../gen/deerflow/v1/workflow_pb.js";

/** Typed clients for the API at one server. */
export interface ApiClients {
  runs: Client<typeof RunService>;
  workflows: Client<typeof WorkflowService>;
  agents: Client<typeof AgentService>;
}

export function createApiClients(baseUrl: string): ApiClients {
  const transport = createGrpcTransport({ baseUrl });
  return {
    runs: createClient(RunService, transport),
    workflows: createClient(WorkflowService, transport),
    agents: createClient(AgentService, transport),
  };
}
