import type { Command } from "commander";
import { registerSecretsLs } from "./secrets-ls.js";
import { registerSecretsPut } from "./secrets-put.js";
import { registerSecretsRm } from "./secrets-rm.js";

/** `deerflow secrets put|ls|rm`: the control plane's built-in store. */
export function registerSecretsCommand(program: Command): void {
  const secrets = program
    .command("secrets")
    .description(
      "store, list and delete secrets (values go in and never come out)",
    );
  registerSecretsPut(secrets);
  registerSecretsLs(secrets);
  registerSecretsRm(secrets);
}
