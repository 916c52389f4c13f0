import type { Command } from "commander";
import {
  ACK_DEADLINE_MS,
  DATABASE_TIMEOUT_MS,
  LEASE_TTL_MS,
} from "../../control-plane/control-plane-options.js";
import { createLogger } from "../../core/index.js";
import { reportError } from "../cli-output.js";
import { integerBetween, nonEmptyPath } from "../key-value.js";
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
      nonEmptyPath("--data-dir"),
      ".deerflow/data",
    )
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL)")
    .option(
      "--statement-timeout-ms <ms>",
      "PostgreSQL cancels a statement running longer (default 60000, " +
        "0 for none; env DEERFLOW_STATEMENT_TIMEOUT_MS; not PGlite)",
      integerBetween("--statement-timeout-ms", DATABASE_TIMEOUT_MS),
    )
    .option(
      "--idle-in-transaction-timeout-ms <ms>",
      "PostgreSQL ends a session whose transaction idles longer (default " +
        "60000, 0 for none; env DEERFLOW_IDLE_IN_TRANSACTION_TIMEOUT_MS; " +
        "not PGlite)",
      integerBetween("--idle-in-transaction-timeout-ms", DATABASE_TIMEOUT_MS),
    )
    .option(
      "--lease-ttl-ms <ms>",
      "lease lifetime without renewal (default 30000)",
      integerBetween("--lease-ttl-ms", LEASE_TTL_MS),
    )
    .option(
      "--ack-deadline-ms <ms>",
      "time an agent has to acknowledge (default 30000)",
      integerBetween("--ack-deadline-ms", ACK_DEADLINE_MS),
    )
    .option(
      "--secret-key-file <file>",
      "the secret store's key, made (mode 0600) if absent; default " +
        "DATA_DIR/secret.key, or ~/.deerflow/secret.key with DATABASE_URL " +
        "(env DEERFLOW_SECRET_KEY holds the key itself)",
      nonEmptyPath("--secret-key-file"),
    )
    .option("--vault-addr <url>", "Vault for vault secrets (env VAULT_ADDR)")
    .option(
      "--vault-token <token>",
      "Vault token (prefer env VAULT_TOKEN: flags show in ps)",
    )
    .option(
      "--vault-namespace <ns>",
      "Vault Enterprise namespace (env VAULT_NAMESPACE)",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig for kubernetes secrets (default: KUBECONFIG, " +
        "~/.kube/config, or in-cluster)",
      nonEmptyPath("--kubeconfig"),
    )
    .option(
      "--env-secrets <names>",
      "comma-separated variables (or PREFIX_*) the env provider may " +
        "share (env DEERFLOW_ENV_SECRETS)",
    )
    .action(async (opts) => {
      const logger = createLogger({ base: { component: "control-plane" } });
      try {
        const { startControlPlane } = await import(
          "../../control-plane/index.js"
        );
        const controlPlane = await startControlPlane({
          listen: opts.listen,
          dataDir: opts.dataDir,
          databaseUrl: opts.databaseUrl,
          statementTimeoutMs: opts.statementTimeoutMs,
          idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs,
          leaseTtlMs: opts.leaseTtlMs,
          ackDeadlineMs: opts.ackDeadlineMs,
          secrets: {
            keyFile: opts.secretKeyFile,
            vaultAddr: opts.vaultAddr,
            vaultToken: opts.vaultToken,
            vaultNamespace: opts.vaultNamespace,
            kubeconfig: opts.kubeconfig,
            envAllow: opts.envSecrets
              ?.split(",")
              .map((s: string) => s.trim())
              .filter(Boolean),
          },
          logger,
        });
        stopOnSignals(logger, () => controlPlane.close());
      } catch (error) {
        process.exitCode = reportError(error);
      }
    });
}
