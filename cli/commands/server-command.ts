import type { Command } from "commander";
import { startControlPlane } from "../../control-plane/index.js";
import { createLogger } from "../../core/index.js";
import { reportError } from "../cli-output.js";
import { positiveInteger } from "../key-value.js";
import { stopOnSignals } from "../stop-on-signals.js";

export function registerServerCommand(program: Command): void {
  program
    .command("server")
    .description(
      "run a control-plane replica (PGlite by default, PostgreSQL with DATABASE_URL)",
    )
    .option("--listen <host:port>", "where to serve the API", "127.0.0.1:7070")
    .option(
      "--data-dir <dir>",
      "PGlite data directory when DATABASE_URL is unset",
      ".deerflow/data",
    )
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL)")
    .option(
      "--lease-ttl-ms <ms>",
      "lease lifetime without renewal",
      positiveInteger("--lease-ttl-ms"),
    )
    .option(
      "--ack-deadline-ms <ms>",
      "time an agent has to acknowledge",
      positiveInteger("--ack-deadline-ms"),
    )
    .action(async (opts) => {
      const logger = createLogger({ base: { component: "control-plane" } });
      try {
        const controlPlane = await startControlPlane({
          listen: opts.listen,
          dataDir: opts.dataDir,
          databaseUrl: opts.databaseUrl,
          leaseTtlMs: opts.leaseTtlMs,
          ackDeadlineMs: opts.ackDeadlineMs,
          logger,
        });
        stopOnSignals(logger, () => controlPlane.close());
      } catch (error) {
        process.exitCode = reportError(error);
      }
    });
}
