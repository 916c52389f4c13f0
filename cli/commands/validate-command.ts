import { existsSync } from "node:fs";
import type { Command } from "commander";
import { formatProblem } from "../../control-plane/workflows/read-definition.js";
import {
  type Problem,
  parseDefinitionText,
  validateDefinition,
} from "../../workflow/index.js";
import { createApiClients } from "../api-clients.js";
import { ExitCode, reportError } from "../cli-output.js";
import { serverUrl, UsageError } from "../key-value.js";
import { readDefinitionFile } from "../read-definition-file.js";

/**
 * Checks a definition file and lists every problem. Offline it knows the
 * built-in task types; with --server it asks the control plane, which
 * also knows the types its agents advertised.
 */
export function registerValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("check a workflow file and list every problem (exit 1 if any)")
    .argument(
      "[file]",
      "the workflow definition (JSON or YAML), before --server",
    )
    .option(
      "--server [url]",
      "validate on the control plane (knows agents' task types)",
    )
    .action(async (given: string | undefined, opts) => {
      const file = fileArgument(given, opts.server);
      const url =
        opts.server === undefined
          ? undefined
          : serverUrl(opts.server === true ? undefined : opts.server);
      try {
        const text = await readDefinitionFile(file);
        const problems = url
          ? await validateRemotely(url, text)
          : await validateLocally(text);
        if (problems.length === 0) {
          process.stdout.write(`${file}: valid\n`);
          process.exitCode = ExitCode.ok;
          return;
        }
        process.stdout.write(
          `${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`,
        );
        for (const p of problems)
          process.stdout.write(`  ${formatProblem(p)}\n`);
        process.exitCode = ExitCode.failed;
      } catch (error) {
        process.exitCode = reportError(error, url);
      }
    });
}

/**
 * The file to check. `--server` takes an optional URL, so in
 * `validate --server flow.yaml` it takes the file's name as its URL:
 * said plainly, with the order that works.
 */
function fileArgument(given: string | undefined, server: unknown): string {
  if (given !== undefined) return given;
  if (typeof server === "string" && existsSync(server)) {
    throw new UsageError(
      `validate: no file given; --server took "${server}" as its URL. ` +
        `Put the file first: deerflow validate ${server} --server`,
    );
  }
  throw new UsageError("validate: missing required argument 'file'");
}

async function validateLocally(text: string): Promise<Problem[]> {
  const parsed = parseDefinitionText(text);
  if (parsed.problems.length > 0) return parsed.problems;
  // The built-in plugins' schemas: loaded only when validating offline.
  const { builtinTaskTypes } = await import(
    "../../control-plane/workflows/task-type-catalog.js"
  );
  return validateDefinition(parsed.document, { taskTypes: builtinTaskTypes() })
    .problems;
}

async function validateRemotely(url: string, text: string): Promise<Problem[]> {
  const answer = await createApiClients(url).workflows.validateWorkflow({
    definition: { source: { case: "text", value: text } },
  });
  return answer.problems.map((p) => ({
    taskId: p.taskId,
    field: p.field,
    message: p.message,
  }));
}
