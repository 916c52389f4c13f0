import type { ConnectRouter } from "@connectrpc/connect";
import type { Clock, Logger } from "../../core/index.js";
import {
  AgentService,
  file_deerflow_v1_agent,
} from "../../gen/deerflow/v1/agent_pb.js";
import {
  file_deerflow_v1_lease,
  LeaseService,
} from "../../gen/deerflow/v1/lease_pb.js";
import {
  file_deerflow_v1_run,
  RunService,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  file_deerflow_v1_secret,
  SecretService,
} from "../../gen/deerflow/v1/secret_pb.js";
import {
  file_deerflow_v1_workflow,
  WorkflowService,
} from "../../gen/deerflow/v1/workflow_pb.js";
import {
  file_grpc_health_v1_health,
  Health,
} from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { AgentSessionDeps } from "../agents/agent-session-deps.js";
import type { Db } from "../db/index.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { RunEventHub } from "../events/run-event-hub.js";
import type { AssignmentSecrets } from "../secrets/index.js";
import { createAgentService } from "./agent-service.js";
import { createHealthService } from "./health-service.js";
import { createLeaseService } from "./lease-service.js";
import { createReflectionService } from "./reflection-service.js";
import { createRunService } from "./run-service.js";
import {
  createSecretService,
  type SecretServiceDeps,
} from "./secret-service.js";
import { createWorkflowService } from "./workflow-service.js";

/** What the API's services are built from: one replica's parts. */
export interface ApiRoutesDeps {
  db: Db;
  clock: Clock;
  /** Scoped to the replica. */
  logger: Logger;
  replicaId: string;
  leaseTtlMs: number;
  ackDeadlineMs: number;
  hub: RunEventHub;
  /** Wakes log followers: on a run's events and its stored log lines. */
  logHub: RunEventHub;
  dispatcher: Dispatcher;
  /** What AgentService's sessions are served with. */
  sessionDeps: AgentSessionDeps;
  /** Resolves claimed tasks' secrets before they are handed over. */
  assignmentSecrets: AssignmentSecrets;
  /** The built-in secret store SecretService manages. */
  secrets: SecretServiceDeps;
  /** False once the replica is stopping; Health answers with it. */
  isServing: () => boolean;
}

const SERVICES = [
  WorkflowService,
  RunService,
  AgentService,
  LeaseService,
  SecretService,
  Health,
  ReflectionV1,
] as const;

/**
 * The API's services on a connect router: workflows, runs, agents,
 * leases and secrets, with health and reflection over them all.
 */
export function apiRoutes(
  deps: ApiRoutesDeps,
): (router: ConnectRouter) => void {
  const { db, clock, hub, logHub, dispatcher, logger: log } = deps;
  return (router) => {
    router.service(
      RunService,
      createRunService({ db, clock, hub, logHub, dispatcher, logger: log }),
    );
    router.service(WorkflowService, createWorkflowService(db, { logger: log }));
    router.service(AgentService, createAgentService(deps.sessionDeps));
    router.service(
      LeaseService,
      createLeaseService({
        db,
        dispatcher,
        clock,
        logger: log,
        replicaId: deps.replicaId,
        leaseTtlMs: deps.leaseTtlMs,
        ackDeadlineMs: deps.ackDeadlineMs,
        secrets: deps.assignmentSecrets,
      }),
    );
    router.service(SecretService, createSecretService(deps.secrets));
    router.service(
      Health,
      createHealthService(
        deps.isServing,
        SERVICES.map((service) => service.typeName),
      ),
    );
    const reflection = createReflectionService(
      [
        file_deerflow_v1_workflow,
        file_deerflow_v1_run,
        file_deerflow_v1_agent,
        file_deerflow_v1_lease,
        file_deerflow_v1_secret,
        file_grpc_health_v1_health,
      ],
      SERVICES.map((s) => s.typeName),
    );
    router.service(ReflectionV1, reflection);
    router.service(ReflectionV1alpha, reflection as never);
  };
}
