import { randomUUID } from "node:crypto";
import type { Http2ServerResponse } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type Clock,
  createLogger,
  type Logger,
  systemClock,
} from "../core/index.js";
import { VERSION } from "../core/version.js";
import { AgentService } from "../gen/deerflow/v1/agent_pb.js";
import type { AgentSession } from "./agents/agent-session.js";
import type { AgentSessionDeps } from "./agents/agent-session-deps.js";
import { serveAgentSession } from "./agents/serve-agent-session.js";
import { decodeSessionRequest } from "./agents/session-request-decoder.js";
import { encodeSessionResponse } from "./agents/session-response-codec.js";
import { supersedeIfReplaced } from "./agents/supersede-session.js";
import { apiRoutes } from "./api/api-routes.js";
import { errorInterceptor, rpcErrorMapper } from "./api/error-interceptor.js";
import {
  type ControlPlaneOptions,
  resolveControlPlaneOptions,
} from "./control-plane-options.js";
import {
  type Database,
  DatabaseHealth,
  type Db,
  openDatabase,
  silentAfterMs,
} from "./db/index.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import { RunEventHub } from "./events/run-event-hub.js";
import { HeartbeatRecorder } from "./leases/heartbeat-recorder.js";
import { downtimeAfterMs, LeaseManager } from "./leases/lease-manager.js";
import { joinReplicas } from "./leases/replica-presence.js";
import { DatabaseGauges } from "./metrics/database-gauges.js";
import { MetricsRoute } from "./metrics/metrics-route.js";
import { rpcMetrics } from "./metrics/rpc-metrics.js";
import { type AgentCommand, Channels } from "./notify/channels.js";
import { AssignmentSecrets, openSecrets } from "./secrets/index.js";
import { GrpcBidiRoute } from "./server/grpc-bidi-route.js";
import { peerContextValues } from "./server/peer-address.js";
import { type NodeHandler, serveOnePort } from "./server/serve-one-port.js";

/** A running control-plane replica. */
export interface ControlPlane {
  /** The API's base URL, e.g. "http://127.0.0.1:7070". */
  readonly url: string;
  readonly port: number;
  readonly database: Database;
  readonly leaseManager: LeaseManager;
  /** Stops serving, ends agent sessions, and closes the database. */
  close(): Promise<void>;
}

/** The largest request message the API reads. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * Starts a control-plane replica: opens (and migrates) the database,
 * starts the dispatcher and lease manager, and serves the API on one
 * port.
 */
export async function startControlPlane(
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const resolved = resolveControlPlaneOptions(options);
  const logger =
    options.logger ?? createLogger({ base: { component: "control-plane" } });
  const clock: Clock = options.clock ?? systemClock;
  const replicaId = options.replicaId ?? randomUUID().slice(0, 8);
  const log = logger.child({ replica_id: replicaId });
  const database = await openDatabase({
    url: resolved.databaseUrl,
    dataDir: resolved.dataDir,
    statementTimeoutMs: resolved.statementTimeoutMs,
    idleInTransactionTimeoutMs: resolved.idleInTransactionTimeoutMs,
    logger: log,
  });
  const { db } = database;
  const secrets = await openSecrets(resolved.secrets, {
    db,
    clock,
    logger: log,
  }).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  const hub = new RunEventHub(database, log);
  const logHub = new RunEventHub(database, log, [
    Channels.runEvent,
    Channels.taskLog,
  ]);
  const assignmentSecrets = new AssignmentSecrets({
    db,
    clock,
    logger: log,
    resolver: secrets.resolver,
  });
  const dispatcher = new Dispatcher({
    db,
    clock,
    logger: log,
    ...resolved,
    secrets: assignmentSecrets,
  });
  // Health follows the lease sweep, this replica's round trip to the
  // database every sweepIntervalMs, rather than a poller of its own.
  const databaseHealth = new DatabaseHealth({
    clock,
    logger: log,
    silentAfterMs: silentAfterMs(resolved.sweepIntervalMs),
  });
  const leaseManager = new LeaseManager({
    db,
    clock,
    logger: log,
    replicaId,
    health: databaseHealth,
    ...resolved,
  });
  const registry = new Map<string, AgentSession>();
  const heartbeats = new HeartbeatRecorder({ db, logger: log });
  const stops: Array<() => Promise<void>> = [];
  let serving = true;
  try {
    // Before any sweep: leases must not expire for time nobody was up.
    const joined = await joinReplicas(
      db,
      replicaId,
      new Date(clock.now()),
      downtimeAfterMs(resolved.sweepIntervalMs),
    );
    if (joined.creditedMs > 0) {
      log.info(
        { credited_ms: joined.creditedMs },
        "no replica was up: lease expiry extended by the downtime",
      );
    }
    await hub.start();
    stops.push(() => hub.stop());
    await logHub.start();
    stops.push(() => logHub.stop());
    stops.push(
      await database.listen(Channels.taskQueued, () =>
        dispatcher.queueChanged(),
      ),
    );
    stops.push(
      await database.listen(Channels.agentCommand, (payload) =>
        routeAgentCommand(payload, { db, registry, logger: log }),
      ),
    );
    dispatcher.start();
    leaseManager.start();
    const sessionDeps: AgentSessionDeps = {
      db,
      dispatcher,
      clock,
      logger: log,
      replicaId,
      registry,
      heartbeats,
      serverVersion: VERSION,
      ...resolved,
    };
    const routes = apiRoutes({
      db,
      clock,
      logger: log,
      replicaId,
      leaseTtlMs: resolved.leaseTtlMs,
      ackDeadlineMs: resolved.ackDeadlineMs,
      hub,
      logHub,
      dispatcher,
      sessionDeps,
      assignmentSecrets,
      secrets,
      isServing: () => serving && databaseHealth.isUp(),
    });
    // Aborted on close: open streams end with Unavailable, which clients
    // treat as "try again elsewhere", on every protocol.
    const shutdown = new AbortController();
    const toError = rpcErrorMapper(log);
    const connectHandler = connectNodeAdapter({
      routes,
      contextValues: peerContextValues,
      // rpcMetrics outermost: it counts the codes callers get.
      interceptors: [rpcMetrics, errorInterceptor(toError)],
      shutdownSignal: shutdown.signal,
      // Definitions are capped at 8 MiB of text; leave room for framing.
      readMaxBytes: MAX_REQUEST_BYTES,
      // A JSON field or enum name this API does not have is an error
      // naming it, not silently dropped (a misspelt "view" would
      // otherwise answer with the default).
      jsonOptions: { ignoreUnknownFields: false },
    });
    // The agents' sessions, held open by thousands of agents, skip
    // connect-es's per-call pipeline when they can (see GrpcBidiRoute),
    // and their hot messages are read and written by hand.
    const sessionRoute = new GrpcBidiRoute(
      AgentService.method.session,
      (requests, peer) => serveAgentSession(requests, sessionDeps, peer),
      {
        readMaxBytes: MAX_REQUEST_BYTES,
        toError,
        encode: encodeSessionResponse,
        decode: decodeSessionRequest,
      },
    );
    const metricsRoute = new MetricsRoute(
      new DatabaseGauges({
        db,
        sessions: () => registry.size,
        logger: log,
      }),
    );
    const handler: NodeHandler = (req, res) => {
      if ("stream" in req && sessionRoute.accepts(req)) {
        void sessionRoute.serve(req, res as Http2ServerResponse);
      } else if (metricsRoute.accepts(req)) {
        void metricsRoute.serve(req, res);
      } else {
        connectHandler(req, res);
      }
    };
    const server = await serveOnePort(handler, resolved.host, resolved.port);
    const url = `http://${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`;
    log.info(
      { url, database: database.kind, version: VERSION },
      "control plane serving",
    );
    return {
      url,
      port: server.port,
      database,
      leaseManager,
      async close() {
        serving = false;
        const stopping = new ConnectError(
          "the control plane is stopping",
          Code.Unavailable,
        );
        shutdown.abort(stopping);
        sessionRoute.close(stopping);
        await server.close();
        await dispatcher.stop();
        await leaseManager.stop();
        for (const stop of stops.reverse()) await stop().catch(() => {});
        await database.close();
        log.info("control plane stopped");
      },
    };
  } catch (error) {
    await dispatcher.stop();
    await leaseManager.stop();
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await database.close();
    throw error;
  }
}

function routeAgentCommand(
  payload: string,
  {
    db,
    registry,
    logger,
  }: { db: Db; registry: ReadonlyMap<string, AgentSession>; logger: Logger },
): void {
  let command: AgentCommand;
  try {
    command = JSON.parse(payload) as AgentCommand;
  } catch {
    logger.warn("unreadable agent command ignored");
    return;
  }
  if (command.kind === "session") {
    supersedeIfReplaced(db, command, registry, logger).catch((error) =>
      logger.warn({ err: error }, "could not check an agent's session"),
    );
    return;
  }
  const session = registry.get(command.agentId);
  if (!session) return;
  switch (command.kind) {
    case "cancel":
      session.cancel(command, command.reason);
      return;
    case "cordon":
      session.setCordoned(command.cordoned);
      return;
    case "drain":
      session.drain(command.gracePeriodMs);
      return;
  }
}
