import {
  type CallOptions,
  type Client,
  createClient as createServiceClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { AgentService } from "../gen/deerflow/v1/agent_pb.js";
import { type Run, RunService } from "../gen/deerflow/v1/run_pb.js";
import { SecretService } from "../gen/deerflow/v1/secret_pb.js";
import {
  type RegisterWorkflowResponse,
  type ValidateWorkflowResponse,
  WorkflowService,
} from "../gen/deerflow/v1/workflow_pb.js";
import {
  type ClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from "./client-options.js";
import { type DefinitionInput, definitionOf } from "./definition-of.js";
import { type StartRunInput, startRun } from "./start-run.js";
import { type WaitForRunOptions, waitForRun } from "./wait-for-run.js";

/** Typed clients for the Deer Flow API, and a few conveniences. */
export interface DeerFlowClient {
  readonly workflows: Client<typeof WorkflowService>;
  readonly runs: Client<typeof RunService>;
  readonly agents: Client<typeof AgentService>;
  readonly secrets: Client<typeof SecretService>;
  /** Starts a run of a definition or a registered workflow. */
  startRun(input: StartRunInput, options?: CallOptions): Promise<Run>;
  /** Follows a run until it ends; returns the final run. */
  waitForRun(runId: string, options?: WaitForRunOptions): Promise<Run>;
  /**
   * Registers a definition under its name; a changed definition becomes
   * a new version, an unchanged one answers `created: false`.
   */
  registerWorkflow(
    definition: DefinitionInput,
    options?: CallOptions,
  ): Promise<RegisterWorkflowResponse>;
  /** Checks a definition on the server; every problem, nothing stored. */
  validateWorkflow(
    definition: DefinitionInput,
    options?: CallOptions,
  ): Promise<ValidateWorkflowResponse>;
  /**
   * Closes the HTTP/2 connection, ending calls still open. The client
   * must not be used afterwards. Idle connections do not keep a process
   * alive, so a short script need not call it.
   */
  close(): void;
}

/**
 * Connects to a control plane. No call is made until the first RPC.
 *
 * ```ts
 * const client = createClient({ baseUrl: "http://127.0.0.1:7070" });
 * const run = await client.startRun({ definition: workflow });
 * const done = await client.waitForRun(run.id);
 * ```
 */
export function createClient(options: ClientOptions): DeerFlowClient {
  const resolved = resolveClientOptions(options);
  const { transport, close } = createTransport(resolved);
  const runs = createServiceClient(RunService, transport);
  const workflows = createServiceClient(WorkflowService, transport);
  return {
    workflows,
    runs,
    agents: createServiceClient(AgentService, transport),
    secrets: createServiceClient(SecretService, transport),
    startRun: (input, callOptions) => startRun(runs, input, callOptions),
    waitForRun: (runId, waitOptions) => waitForRun(runs, runId, waitOptions),
    registerWorkflow: (definition, callOptions) =>
      workflows.registerWorkflow(
        { definition: definitionOf(definition) },
        callOptions,
      ),
    validateWorkflow: (definition, callOptions) =>
      workflows.validateWorkflow(
        { definition: definitionOf(definition) },
        callOptions,
      ),
    close,
  };
}

function createTransport(options: ResolvedClientOptions): {
  transport: Transport;
  close(): void;
} {
  const interceptors = [
    ...(options.token === undefined ? [] : [bearer(options.token)]),
    ...options.interceptors,
  ];
  const common = { baseUrl: options.baseUrl, interceptors };
  const sessionManager =
    options.httpVersion === "2"
      ? new Http2SessionManager(options.baseUrl)
      : undefined;
  const http = sessionManager
    ? { httpVersion: "2" as const, sessionManager }
    : { httpVersion: "1.1" as const };
  let transport: Transport;
  if (options.protocol === "grpc") {
    transport = createGrpcTransport({ ...common, ...http });
  } else if (options.protocol === "grpc-web") {
    transport = createGrpcWebTransport({ ...common, ...http });
  } else {
    transport = createConnectTransport({ ...common, ...http });
  }
  return {
    transport: withUnaryDeadline(transport, options.timeoutMs),
    close: () => sessionManager?.abort(),
  };
}

/** Adds `authorization: Bearer <token>` to every call. */
function bearer(token: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}

/**
 * Gives unary calls a default deadline and streams none: a deadline that
 * suits GetRun would cut a WatchRun of a long run short.
 */
function withUnaryDeadline(inner: Transport, timeoutMs: number): Transport {
  return {
    unary(method, signal, callTimeoutMs, header, input, contextValues) {
      const deadline = callTimeoutMs ?? timeoutMs;
      return inner.unary(
        method,
        signal,
        deadline,
        header,
        input,
        contextValues,
      );
    },
    stream(method, signal, callTimeoutMs, header, input, contextValues) {
      return inner.stream(
        method,
        signal,
        callTimeoutMs,
        header,
        input,
        contextValues,
      );
    },
  };
}
