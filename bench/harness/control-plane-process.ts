import { createClient } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import type { BenchDatabase } from "./bench-database.js";
import { type Child, isRunning, startChild } from "./child-process.js";
import type { Cleanup } from "./cleanup.js";
import { DEERFLOW_BIN, deerflowNodeFlags } from "./deerflow-command.js";
import { freeLoopbackPort } from "./free-port.js";
import { sleep } from "./wait-for.js";

/** How long a control plane may take to answer SERVING (migrations). */
const START_TIMEOUT_MS = 60_000;
/** How long a SIGTERM'd process may take to write its CPU profile. */
const GRACEFUL_STOP_MS = 30_000;

/** How to start one `deerflow server` process. */
export interface ControlPlaneProcessOptions {
  database: BenchDatabase;
  /** DEERFLOW_LOG_LEVEL; default "info", the product's default. */
  logLevel?: string;
  leaseTtlMs?: number;
  ackDeadlineMs?: number;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir", DIR]. */
  nodeArgs?: readonly string[];
}

/** A running control plane, as a separate process the harness can watch. */
export interface ControlPlaneProcess {
  readonly url: string;
  readonly pid: number;
  readonly child: Child;
  /** SIGTERM, wait for a clean exit (a CPU profile is written then). */
  stop(): Promise<void>;
}

/**
 * Starts `bin/deerflow.js server` (with the node flags of
 * `npm run deerflow`) on a loopback port and waits until its health
 * check answers SERVING. It is stopped by `cleanup` unless
 * stopped before.
 */
export async function startControlPlaneProcess(
  cleanup: Cleanup,
  options: ControlPlaneProcessOptions,
): Promise<ControlPlaneProcess> {
  const port = await freeLoopbackPort();
  const args = [
    ...deerflowNodeFlags(),
    ...(options.nodeArgs ?? []),
    DEERFLOW_BIN,
    "server",
    "--listen",
    `127.0.0.1:${port}`,
  ];
  if (options.leaseTtlMs !== undefined)
    args.push("--lease-ttl-ms", String(options.leaseTtlMs));
  if (options.ackDeadlineMs !== undefined)
    args.push("--ack-deadline-ms", String(options.ackDeadlineMs));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEERFLOW_LOG_LEVEL: options.logLevel ?? "info",
  };
  // Only the scenario's own database: never one inherited from the shell.
  delete env.DATABASE_URL;
  if (options.database.url) env.DATABASE_URL = options.database.url;
  else if (options.database.dataDir) {
    args.push("--data-dir", options.database.dataDir);
  }
  const child = startChild("control plane", args, env);
  const stop = async () => {
    if (!isRunning(child)) return;
    void child.stop("SIGTERM");
    const ended = await Promise.race([
      child.exited.then(() => true),
      sleep(GRACEFUL_STOP_MS).then(() => false),
    ]);
    if (!ended) await child.stop("SIGKILL");
  };
  const undo = cleanup.defer(`control plane pid ${child.pid}`, stop);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url, child);
  } catch (error) {
    await undo();
    throw error;
  }
  return { url, pid: child.pid, child, stop: undo };
}

async function waitUntilServing(url: string, child: Child): Promise<void> {
  const connection = new Http2SessionManager(url);
  const health = createClient(
    Health,
    createGrpcTransport({ baseUrl: url, sessionManager: connection }),
  );
  const deadline = performance.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      try {
        const answer = await health.check({ service: "" });
        if (answer.status === HealthCheckResponse_ServingStatus.SERVING) return;
      } catch {
        // Not listening yet.
      }
      if (!isRunning(child)) {
        throw new Error(
          `control plane exited while starting:\n${child.tail()}`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(
          `control plane did not answer SERVING in ${START_TIMEOUT_MS} ms:\n${child.tail()}`,
        );
      }
      await sleep(100);
    }
  } finally {
    connection.abort();
  }
}
