import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import { ExitCode, printJson } from "./cli-output.js";
import { formatTable } from "./format-table.js";
import { withSecretsClient } from "./secrets-client.js";

/** `deerflow secrets ls`: names and times, never values. */
export function registerSecretsLs(secrets: Command): void {
  secrets
    .command("ls")
    .description("list the built-in store's secrets (names only)")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--json", "print the secrets as JSON", false)
    .action((opts) =>
      withSecretsClient(opts.server, async (client) => {
        const { secrets: list } = await client.listSecrets({});
        const rows = list.map((s) => ({
          name: s.name,
          created_at: iso(s.createdAt),
          updated_at: iso(s.updatedAt),
        }));
        if (opts.json) {
          printJson(rows);
          return ExitCode.ok;
        }
        const table = formatTable(
          ["NAME", "CREATED", "UPDATED"],
          rows.map((r) => [r.name, r.created_at, r.updated_at]),
        );
        process.stdout.write(`${table}\n`);
        return ExitCode.ok;
      }),
    );
}

function iso(time: Timestamp | undefined): string {
  return time ? timestampDate(time).toISOString() : "";
}
