import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { RunningAgent } from "../../agent/index.js";
import { createLogger, type Logger } from "../../core/index.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { createApiClients } from "../api-clients.js";
import { reportError } from "../cli-output.js";
import { exitOnInterrupt } from "../exit-on-interrupt.js";
import { collectKeyValues, nonEmptyPath } from "../key-value.js";
import { stopOnSignals } from "../stop-on-signals.js";
import { submitRun } from "./run-command.js";

/**
 * A control plane on the embedded database and one local agent in one
 * process. With FILE it runs that workflow, shows each task's state
 * live, prints the final states and exits 0 or 1; without, it serves.
 */
export function registerDevCommand(program: Command): void {
  program
    .command("dev")
    .description(
      "server and a local agent in one process; with FILE, run it and exit",
    )
    .argument("[file]", "a workflow to run and wait for")
    .option("--listen <host:port>", "where to serve the API", "127.0.0.1:7070")
    .option(
      "--data-dir <dir>",
      "PGlite data directory",
      nonEmptyPath("--data-dir"),
      ".deerflow/data",
    )
    .option(
      "-p, --param <key=value>",
      "a param of the run (repeatable)",
      collectKeyValues("--param", true),
      {},
    )
    .option(
      "-l, --label <key=value>",
      "a label of the local agent (repeatable)",
      collectKeyValues("--label", false),
      {},
    )
    .option("--json", "print the finished run as JSON on stdout", false)
    .action(async (file: string | undefined, opts) => {
      if (file !== undefined) await runFile(nonEmptyPath("FILE")(file), opts);
      else await serve(opts);
    });
}

/** The dev command's options, as commander parsed them. */
interface DevOptions {
  listen: string;
  dataDir: string;
  param: JsonObject;
  label: Record<string, string>;
  json: boolean;
}

/** A control plane and its local agent, stopped together once. */
interface DevStack {
  url: string;
  agent: RunningAgent;
  stop(): Promise<void>;
}

async function serve(opts: DevOptions): Promise<void> {
  const logger = createLogger({ base: { component: "dev" } });
  try {
    const stack = await startStack(opts, logger, false);
    process.stderr.write(
      `deerflow dev: serving on ${stack.url} with one local agent\n`,
    );
    stopOnSignals(logger, stack.stop);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

/**
 * Runs one workflow and exits 0 or 1. Ctrl-C (or SIGTERM) closes the
 * agent, which kills the running attempts' process trees and removes
 * their work directories, then the control plane, and exits 130.
 */
async function runFile(file: string, opts: DevOptions): Promise<void> {
  // The user watches the run: keep component logs quiet.
  const logger = createLogger({
    level: process.env.DEERFLOW_LOG_LEVEL ?? "warn",
    base: { component: "dev" },
  });
  let stack: DevStack | undefined;
  const following = new AbortController();
  const guard = exitOnInterrupt({
    message: () => "deerflow dev: interrupted; stopping the local agent",
    cleanup: async () => {
      // The watch ends first, so the closing server sees no broken call.
      following.abort();
      await stack?.stop();
    },
  });
  let exitCode: number;
  try {
    stack = await startStack(opts, logger, true);
    await stack.agent.ready;
    exitCode = await submitRun(createApiClients(stack.url), file, {
      params: opts.param,
      wait: true,
      json: opts.json,
      signal: following.signal,
    });
  } catch (error) {
    // Stopping on a signal breaks the run's watch: that is no error.
    if (guard.interrupted) return;
    exitCode = reportError(error);
  }
  if (guard.interrupted) return;
  guard.dispose();
  process.exitCode = exitCode;
  await stack?.stop();
}

async function startStack(
  opts: DevOptions,
  logger: Logger,
  anyPort: boolean,
): Promise<DevStack> {
  const [{ startControlPlane }, { startAgent }] = await Promise.all([
    import("../../control-plane/index.js"),
    import("../../agent/index.js"),
  ]);
  const start = (listen: string) =>
    startControlPlane({
      listen,
      dataDir: opts.dataDir,
      databaseUrl: undefined,
      logger,
    });
  // Running a file needs no fixed port: when the default one is taken
  // (a server already runs), any free port will do.
  const controlPlane = await start(opts.listen).catch((error) => {
    if (!anyPort || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") {
      throw error;
    }
    process.stderr.write(
      `deerflow dev: ${opts.listen} is in use; using a free port\n`,
    );
    return start("127.0.0.1:0");
  });
  let agent: RunningAgent;
  try {
    agent = await startAgent({
      serverUrl: controlPlane.url,
      name: "dev-agent",
      labels: opts.label,
      stateDir: join(opts.dataDir, "agent"),
      workRoot: tmpdir(),
      logger,
    });
  } catch (error) {
    await controlPlane.close();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    await agent.close();
    await controlPlane.close();
  };
  return { url: controlPlane.url, agent, stop: () => (stopped ??= stop()) };
}
