import type { Command } from "commander";
import { ExitCode } from "./cli-output.js";
import { withSecretsClient } from "./secrets-client.js";

/** `deerflow secrets rm NAME`. */
export function registerSecretsRm(secrets: Command): void {
  secrets
    .command("rm")
    .description("delete a secret from the built-in store")
    .argument("<name>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .action((name: string, opts) =>
      withSecretsClient(opts.server, async (client) => {
        await client.deleteSecret({ name });
        process.stdout.write(`secret ${name} deleted\n`);
        return ExitCode.ok;
      }),
    );
}
