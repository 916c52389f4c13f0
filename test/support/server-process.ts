import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";

const BIN = fileURLToPath(new URL("../../bin/deerflow.js", import.meta.url));

/** How long a server process may take to answer its first health Check. */
const START_TIMEOUT_MS = 45_000;

/** How to start a `deerflow server` process. */
export interface ServerProcessOptions {
  /** A postgres:// URL; every replica of one test shares it. */
  databaseUrl?: string | undefined;
  /** PGlite's data directory, when databaseUrl is unset. */
  dataDir?: string | undefined;
  /** Loopback port to listen on; 0 (the default) lets the server pick. */
  port?: number;
  leaseTtlMs?: number;
  ackDeadlineMs?: number;
  env?: Record<string, string>;
}

/** A real `deerflow server` process (one control-plane replica). */
export interface ServerProcess {
  /** The API's base URL, e.g. "http://127.0.0.1:41234". */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote (its JSON logs). */
  output(): string;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Sends a signal (default SIGKILL) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
  /**
   * Starts a new process with the same options on the same database and
   * port. The old one must have exited.
   */
  restart(): Promise<ServerProcess>;
}

const running = new Set<ServerProcess>();

/**
 * Starts `deerflow server` on loopback and resolves once its health Check
 * answers SERVING. Call {@link stopAllServers} in afterEach.
 */
export async function startServerProcess(
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  const args = [BIN, "server", "--listen", `127.0.0.1:${options.port ?? 0}`];
  if (options.dataDir) args.push("--data-dir", options.dataDir);
  if (options.leaseTtlMs !== undefined)
    args.push("--lease-ttl-ms", String(options.leaseTtlMs));
  if (options.ackDeadlineMs !== undefined)
    args.push("--ack-deadline-ms", String(options.ackDeadlineMs));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEERFLOW_LOG_LEVEL: "info",
    ...options.env,
  };
  // Only an explicit URL reaches the server: a DATABASE_URL inherited
  // from the shell must not point a PGlite test at a real database.
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const child = spawn(process.execPath, args, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code ?? 0)),
  );
  const stop = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null)
      child.kill(signal);
    return exited;
  };
  const provisional = { child, exited, kill: stop } as ServerProcess;
  running.add(provisional);
  void exited.then(() => running.delete(provisional));
  try {
    const url = await servingUrl(() => output, exited);
    await waitUntilServing(url, exited);
    const port = Number(new URL(url).port);
    const server: ServerProcess = {
      url,
      port,
      child,
      output: () => output,
      exited,
      kill: stop,
      restart: () => startServerProcess({ ...options, port }),
    };
    return server;
  } catch (error) {
    await stop();
    throw new Error(`deerflow server did not start: ${String(error)}`, {
      cause: error,
    });
  }
}

/** The URL the server logs once it listens ("control plane serving"). */
async function servingUrl(
  output: () => string,
  exited: Promise<unknown>,
): Promise<string> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    for (const line of output().split("\n")) {
      if (!line.includes('"control plane serving"')) continue;
      const url = (JSON.parse(line) as { url?: unknown }).url;
      if (typeof url === "string") return url;
    }
    if (gone) throw new Error(`it exited before serving:\n${output()}`);
    if (Date.now() > deadline) {
      throw new Error(`it did not log "control plane serving":\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Calls grpc.health.v1 Check until it answers SERVING. */
export async function waitUntilServing(
  url: string,
  exited?: Promise<unknown>,
): Promise<void> {
  let gone = false;
  void exited?.then(() => (gone = true));
  // Its own connection, closed after, so that no idle session outlives it.
  const connection = new Http2SessionManager(url);
  const health = createClient(
    Health,
    createGrpcTransport({ baseUrl: url, sessionManager: connection }),
  );
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: unknown;
  try {
    for (;;) {
      try {
        const answer = await health.check({ service: "" });
        if (answer.status === HealthCheckResponse_ServingStatus.SERVING) return;
        last = `status ${answer.status}`;
      } catch (error) {
        last = error;
      }
      if (gone) throw new Error(`${url} exited while starting`);
      if (Date.now() > deadline) {
        throw new Error(`${url} never answered SERVING: ${String(last)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    connection.abort();
  }
}

/**
 * Kills every server process the test started and waits for each to end.
 * Servers run until told to stop: call it in afterEach.
 */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.kill("SIGKILL")));
}
