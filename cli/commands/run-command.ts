import type { Command } from "commander";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { type ApiClients, createApiClients } from "../api-clients.js";
import { ExitCode, printJson, reportError } from "../cli-output.js";
import { exitOnInterrupt } from "../exit-on-interrupt.js";
import { collectKeyValues, serverUrl } from "../key-value.js";
import { readDefinitionFile } from "../read-definition-file.js";
import { runToJson } from "../run-json.js";
import { followRun, formatTaskTable } from "../run-progress.js";

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

/**
 * Starts a run of a definition file and, with `wait`, follows it to its
 * end. Returns the exit code: 0 when the run succeeded (or was only
 * started), 1 when it did not.
 */
export async function submitRun(
  clients: ApiClients,
  file: string,
  options: SubmitOptions,
): Promise<number> {
  const text = await readDefinitionFile(file);
  const { run } = await clients.runs.startRun({
    workflow: {
      case: "definition",
      value: { source: { case: "text", value: text } },
    },
    params: options.params,
    idempotencyKey: options.idempotencyKey ?? "",
  });
  if (!run) throw new Error("the server answered without a run");
  options.onStarted?.(run.id);
  // With --json, stdout carries only the run; progress goes to stderr.
  const progress = options.json ? process.stderr : process.stdout;
  if (!options.wait) {
    if (options.json) printJson(runToJson(run));
    else process.stdout.write(`${run.id}\n`);
    return ExitCode.ok;
  }
  progress.write(`run ${run.id} (${run.workflowName}) started\n`);
  const finished = await followRun(
    clients.runs,
    run.id,
    progress,
    options.signal,
  );
  if (options.json) printJson(runToJson(finished));
  else progress.write(`\n${formatTaskTable(finished)}\n`);
  return finished.state === RunState.SUCCESS ? ExitCode.ok : ExitCode.failed;
}

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("start a run of a workflow file (JSON or YAML)")
    .argument("<file>", "the workflow definition")
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
    .action(async (file: string, opts) => {
      const url = serverUrl(opts.server);
      let runId: string | undefined;
      // Following is not owning: Ctrl-C stops the watch, not the run.
      const guard = opts.wait
        ? exitOnInterrupt({ message: () => leftRunning(runId) })
        : undefined;
      try {
        process.exitCode = await submitRun(createApiClients(url), file, {
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
