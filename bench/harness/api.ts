import { createClient } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import type { ApiClients } from "../../cli/api-clients.js";
import { AgentService } from "../../gen/deerflow/v1/agent_pb.js";
import { RunService } from "../../gen/deerflow/v1/run_pb.js";
import { WorkflowService } from "../../gen/deerflow/v1/workflow_pb.js";
import type { Cleanup } from "./cleanup.js";

/**
 * gRPC clients of the API over one HTTP/2 connection of the harness's
 * own, closed by `cleanup` so no session outlives the scenario.
 */
export function connectApi(cleanup: Cleanup, url: string): ApiClients {
  const connection = new Http2SessionManager(url);
  cleanup.defer(`API connection ${url}`, () => connection.abort());
  const transport = createGrpcTransport({
    baseUrl: url,
    sessionManager: connection,
  });
  return {
    runs: createClient(RunService, transport),
    workflows: createClient(WorkflowService, transport),
    agents: createClient(AgentService, transport),
  };
}
