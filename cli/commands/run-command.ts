import { stat } from "node:fs/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  RunState,
  RunView,
  type StartRunRequestSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { type ApiClients, createApiClients } from "../api-clients.js";
import { ExitCode, printJson, reportError } from "../cli-output.js";
import { exitOnInterrupt } from "../exit-on-interrupt.js";
import { collectKeyValues, serverUrl } from "../key-value.js";
import { readDefinitionFile } from "../read-definition-file.js";
import { runToJson } from "../run-json.js";
import { followRun, formatTaskTable } from "../run-progress.js";
import { parseWorkflowArgument } from "./workflows-command.js";

export interface SubmitOptions {
  params: JsonObject;
  wait: boolean;
  json: boolean;
  idempotencyKey?: string | undefined;
  /** Told the run's id as soon as the server has started it. */
  onStarted?: (runId: string) => void;
  /** Stops following the run (not the run itself). */
  signal?: AbortSignal | undefined;
}

/** What StartRun is told to run: a definition or a registered name. */
type RunWorkflow = MessageInitShape<typeof StartRunRequestSchema>["workflow"];

/**
 * Starts a run of a definition file or of a registered workflow
 * (`NAME[@VERSION]`, see {@link runWorkflowOf}) and, with `wait`,
 * follows it to its end. Returns the exit code: 0 when the run
 * succeeded (or was only started), 1 when it did not.
 */
export async function submitRun(
  clients: ApiClients,
  target: string,
  options: SubmitOptions,
): Promise<number> {
  const { run, created } = await clients.runs.startRun({
    workflow: await runWorkflowOf(target),
    params: options.params,
    idempotencyKey: options.idempotencyKey ?? "",
    // The run is printed whole only with --json and no --wait; otherwise
    // its id and name are all that is read here.
    view: options.json && !options.wait ? RunView.FULL : RunView.BASIC,
  });
  if (!run) throw new Error("the server answered without a run");
  options.onStarted?.(run.id);
  // With --json, stdout carries only the run; progress goes to stderr.
  const progress = options.json ? process.stderr : process.stdout;
  // A run the idempotency key already named: said on stderr, so that
  // stdout stays the run alone.
  if (!created) {
    process.stderr.write(
      `run ${run.id} was started earlier with idempotency key "${options.idempotencyKey}"; not started again\n`,
    );
  }
  if (!options.wait) {
    if (options.json) printJson(runToJson(run));
    else process.stdout.write(`${run.id}\n`);
    return ExitCode.ok;
  }
  if (created) progress.write(`run ${run.id} (${run.workflowName}) started\n`);
  const finished = await followRun(clients.runs, run.id, progress, {
    signal: options.signal,
    reached: true,
  });
  if (options.json) printJson(runToJson(finished));
  else progress.write(`\n${formatTaskTable(finished)}\n`);
  return finished.state === RunState.SUCCESS ? ExitCode.ok : ExitCode.failed;
}

/** Names that are read as files even when no such file exists. */
const FILE_LIKE = /[\\/]|\.(ya?ml|json)$/i;

/**
 * An existing path is a definition file. Anything else is a registered
 * workflow, `NAME` (the latest version) or `NAME@VERSION`, except an
 * argument that looks like a path (a slash, or a .yaml/.yml/.json
 * ending): that is a missing file, and the error says so rather than
 * "workflow not found".
 */
export async function runWorkflowOf(target: string): Promise<RunWorkflow> {
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  if (exists || FILE_LIKE.test(target)) {
    const text = await readDefinitionFile(target);
    return {
      case: "definition",
      value: { source: { case: "text", value: text } },
    };
  }
  return { case: "workflowRef", value: parseWorkflowArgument(target) };
}

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description(
      "start a run of a workflow file (JSON or YAML), or of a registered " +
        "workflow by NAME or NAME@VERSION",
    )
    .argument(
      "<file>",
      "a workflow file; when no such file exists, the name of a " +
        "registered workflow (NAME for the latest version, NAME@VERSION " +
        "for one version). An argument with a slash or a .yaml, .yml or " +
        ".json ending is always read as a file.",
    )
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option(
      "-p, --param <key=value>",
      "a param; JSON values keep their type (repeatable)",
      collectKeyValues("--param", true),
      {},
    )
    .option(
      "--wait",
      "follow the run live and exit 0 on success, 1 on failure",
      false,
    )
    .option("--json", "print the run as one JSON object on stdout", false)
    .option(
      "--idempotency-key <key>",
      "a second start with the same key returns the first run",
    )
    .action(async (target: string, opts) => {
      const url = serverUrl(opts.server);
      let runId: string | undefined;
      // Following is not owning: Ctrl-C stops the watch, not the run.
      const guard = opts.wait
        ? exitOnInterrupt({ message: () => leftRunning(runId) })
        : undefined;
      try {
        process.exitCode = await submitRun(createApiClients(url), target, {
          params: opts.param,
          wait: opts.wait,
          json: opts.json,
          idempotencyKey: opts.idempotencyKey,
          onStarted: (id) => {
            runId = id;
          },
        });
      } catch (error) {
        process.exitCode = reportError(error, url);
      }
      guard?.dispose();
    });
}

/** What Ctrl-C during `run --wait` tells the user. */
function leftRunning(runId: string | undefined): string {
  return runId === undefined
    ? "deerflow: interrupted; the run may have started on the server " +
        "(`deerflow runs ls` lists runs)"
    : `deerflow: interrupted; run ${runId} goes on on the server ` +
        `(\`deerflow runs cancel ${runId}\` stops it)`;
}
