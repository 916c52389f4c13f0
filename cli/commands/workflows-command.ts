import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import { stringify } from "yaml";
import type { Workflow } from "../../gen/deerflow/v1/workflow_pb.js";
import type { ApiClients } from "../api-clients.js";
import { ExitCode, printJson } from "../cli-output.js";
import { decimal, positiveInteger, UsageError } from "../key-value.js";
import { readDefinitionFile } from "../read-definition-file.js";
import { printTable, withClients } from "./runs-command.js";

/** A registered workflow as a command line names it: NAME[@VERSION]. */
export interface WorkflowArgument {
  name: string;
  /** Zero means the latest version. */
  version: number;
}

/**
 * Reads `NAME` or `NAME@VERSION`. Names cannot hold "@", so the last one
 * splits; a version that is not a whole number from 1 is a UsageError
 * naming the argument.
 */
export function parseWorkflowArgument(raw: string): WorkflowArgument {
  const at = raw.lastIndexOf("@");
  if (at < 0) return { name: raw, version: 0 };
  const name = raw.slice(0, at);
  const version = decimal(raw.slice(at + 1));
  if (name === "" || !Number.isSafeInteger(version) || version < 1) {
    throw new UsageError(
      `"${raw}": expected NAME or NAME@VERSION (a version from 1)`,
    );
  }
  return { name, version };
}

export function registerWorkflowsCommand(program: Command): void {
  const workflows = program
    .command("workflows")
    .description("register, list and read named, versioned workflows");
  registerRegister(workflows);
  registerLs(workflows);
  registerGet(workflows);
}

function registerRegister(workflows: Command): void {
  workflows
    .command("register")
    .description(
      "register a workflow file under its name; a changed definition " +
        "becomes the next version (exit 1 if it is invalid)",
    )
    .argument("<file>", "the workflow definition (JSON or YAML)")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--json", "print name, version, digest and created as JSON")
    .action((file: string, opts) =>
      withClients(opts.server, async (clients) => {
        const text = await readDefinitionFile(file);
        const { workflow, created } = await clients.workflows.registerWorkflow({
          definition: { source: { case: "text", value: text } },
        });
        if (!workflow)
          throw new Error("the server answered without a workflow");
        if (opts.json) {
          printJson({
            name: workflow.name,
            version: workflow.version,
            digest: workflow.digest,
            created,
          });
        } else {
          process.stdout.write(`${registeredLine(workflow, created)}\n`);
        }
        return ExitCode.ok;
      }),
    );
}

/** What `register` says happened. */
function registeredLine(workflow: Workflow, created: boolean): string {
  const what = `${workflow.name} version ${workflow.version}`;
  if (!created) return `${what}: unchanged (same definition as the latest)`;
  return workflow.version === 1
    ? `${what}: registered (new workflow)`
    : `${what}: registered (changed from version ${workflow.version - 1})`;
}

function registerLs(workflows: Command): void {
  workflows
    .command("ls")
    .description(
      "list the latest version of each workflow, or every version of one",
    )
    .argument("[name]", "list every version of this workflow, newest first")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--json", "print the workflows as JSON (without definitions)")
    .action((name: string | undefined, opts) =>
      withClients(opts.server, async (clients) => {
        const list = await listAll(clients, name ?? "");
        if (name && list.length === 0) {
          process.stderr.write(`deerflow: workflow ${name} not found\n`);
          return ExitCode.error;
        }
        if (opts.json) {
          printJson(list.map(workflowSummary));
          return ExitCode.ok;
        }
        printTable(
          ["NAME", "VERSION", "VERSIONS", "DIGEST", "CREATED"],
          list.map((w) => [
            w.name,
            String(w.version),
            String(w.versionCount),
            w.digest.slice(0, 12),
            createdAt(w),
          ]),
        );
        return ExitCode.ok;
      }),
    );
}

/** Every page of ListWorkflows; a registry is small enough to read whole. */
async function listAll(clients: ApiClients, name: string): Promise<Workflow[]> {
  const all: Workflow[] = [];
  let pageToken = "";
  do {
    const page = await clients.workflows.listWorkflows({ name, pageToken });
    all.push(...page.workflows);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}

function workflowSummary(w: Workflow) {
  return {
    name: w.name,
    version: w.version,
    version_count: w.versionCount,
    digest: w.digest,
    created_at: createdAt(w),
  };
}

function createdAt(w: Workflow): string {
  return w.createdAt ? timestampDate(w.createdAt).toISOString() : "";
}

function registerGet(workflows: Command): void {
  workflows
    .command("get")
    .description("print a workflow's definition as YAML (or JSON)")
    .argument("<name>", "the workflow: NAME or NAME@VERSION")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option(
      "--version <n>",
      "the version to print; default the latest",
      positiveInteger("--version"),
    )
    .option("--json", "print the definition as JSON")
    .action((raw: string, opts) =>
      withClients(opts.server, async (clients) => {
        const ref = parseWorkflowArgument(raw);
        if (ref.version > 0 && opts.version !== undefined) {
          throw new UsageError(
            `--version: "${raw}" names a version already; give one of them`,
          );
        }
        const { workflow } = await clients.workflows.getWorkflow({
          name: ref.name,
          version: opts.version ?? ref.version,
        });
        if (!workflow)
          throw new Error("the server answered without a workflow");
        const definition = workflow.definition ?? {};
        if (opts.json) printJson(definition);
        else
          process.stdout.write(
            `${yamlHeader(workflow)}${stringify(definition)}`,
          );
        return ExitCode.ok;
      }),
    );
}

/** A comment naming the version, so the printed file says what it is. */
function yamlHeader(w: Workflow): string {
  return (
    `# ${w.name} version ${w.version} of ${w.versionCount}, ` +
    `digest ${w.digest.slice(0, 12)}, registered ${createdAt(w)}\n`
  );
}
