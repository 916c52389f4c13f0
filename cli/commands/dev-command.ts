import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { startAgent } from "../../agent/index.js";
import { startControlPlane } from "../../control-plane/index.js";
import { createLogger } from "../../core/index.js";
import { createApiClients } from "../api-clients.js";
import { reportError } from "../cli-output.js";
import { collectKeyValues } from "../key-value.js";
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
    .option("--data-dir <dir>", "PGlite data directory", ".deerflow/data")
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
      // With a file, the user watches the run: keep component logs quiet.
      const logger = createLogger({
        level: file ? (process.env.DEERFLOW_LOG_LEVEL ?? "warn") : undefined,
        base: { component: "dev" },
      });
      let stop = async () => {};
      try {
        const start = (listen: string) =>
          startControlPlane({
            listen,
            dataDir: opts.dataDir,
            databaseUrl: undefined,
            logger,
          });
        // Running a file needs no fixed port: when the default one is
        // taken (a server already runs), any free port will do.
        const controlPlane = await start(opts.listen).catch((error) => {
          if (!file || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") {
            throw error;
          }
          process.stderr.write(
            `deerflow dev: ${opts.listen} is in use; using a free port\n`,
          );
          return start("127.0.0.1:0");
        });
        const agent = await startAgent({
          serverUrl: controlPlane.url,
          name: "dev-agent",
          labels: opts.label as Record<string, string>,
          stateDir: join(opts.dataDir, "agent"),
          workRoot: tmpdir(),
          logger,
        });
        stop = async () => {
          await agent.close();
          await controlPlane.close();
        };
        if (!file) {
          process.stderr.write(
            `deerflow dev: serving on ${controlPlane.url} with one local agent\n`,
          );
          stopOnSignals(logger, stop);
          return;
        }
        await agent.ready;
        process.exitCode = await submitRun(
          createApiClients(controlPlane.url),
          file,
          {
            params: opts.param,
            wait: true,
            json: opts.json,
          },
        );
      } catch (error) {
        process.exitCode = reportError(error);
      }
      if (file) await stop();
    });
}
