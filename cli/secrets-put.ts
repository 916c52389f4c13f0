import type { Command } from "commander";
import { ExitCode } from "./cli-output.js";
import { withSecretsClient } from "./secrets-client.js";
import { readSecretValue } from "./secrets-read-value.js";

/** `deerflow secrets put NAME [--value V | --from-file F | stdin]`. */
export function registerSecretsPut(secrets: Command): void {
  secrets
    .command("put")
    .description(
      "store a secret in the built-in store (creates or replaces it)",
    )
    .argument("<name>", "letters, digits and _, not starting with a digit")
    .option(
      "--value <value>",
      "the value (visible in shell history and ps; prefer stdin)",
    )
    .option("--from-file <file>", "read the value from a file")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .action((name: string, opts) =>
      withSecretsClient(opts.server, async (client) => {
        const value = await readSecretValue(opts);
        const { secret } = await client.putSecret({ name, value });
        const replaced =
          secret?.createdAt !== undefined &&
          secret.updatedAt !== undefined &&
          (secret.createdAt.seconds !== secret.updatedAt.seconds ||
            secret.createdAt.nanos !== secret.updatedAt.nanos);
        process.stdout.write(
          `secret ${name} ${replaced ? "replaced" : "created"}\n`,
        );
        return ExitCode.ok;
      }),
    );
}
