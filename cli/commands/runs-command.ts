import type { Command } from "commander";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import { createApiClients } from "../api-clients.js";
import { ExitCode, printJson, reportError } from "../cli-output.js";
import { formatTable } from "../format-table.js";
import { positiveInteger, serverUrl } from "../key-value.js";
import { runToJson } from "../run-json.js";
import { followRun, formatTaskTable } from "../run-progress.js";

export function registerRunsCommand(program: Command): void {
  const runs = program
    .command("runs")
    .description("list, inspect, watch and cancel runs");
  runs
    .command("ls")
    .description("list recent runs, newest first")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--limit <n>", "how many runs", positiveInteger("--limit"), 20)
    .option("--json", "print the runs as JSON", false)
    .action((opts) =>
      withClients(opts.server, async (clients) => {
        const { runs: list } = await clients.runs.listRuns({
          pageSize: opts.limit,
        });
        if (opts.json) {
          printJson(list.map(runToJson));
          return ExitCode.ok;
        }
        const rows = list.map((r) => [
          r.id,
          r.workflowName,
          RunState[r.state],
          r.createdAt
            ? new Date(Number(r.createdAt.seconds) * 1000).toISOString()
            : "",
          Object.entries(r.taskCounts)
            .map(([s, n]) => `${n} ${s}`)
            .join(", "),
        ]);
        printTable(["RUN", "WORKFLOW", "STATE", "CREATED", "TASKS"], rows);
        return ExitCode.ok;
      }),
    );
  runs
    .command("get")
    .description(
      "show a run with each task's state, attempts, agent and output",
    )
    .argument("<run-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--json", "print the run as one JSON object", false)
    .action((runId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const { run } = await clients.runs.getRun({ runId });
        if (!run) return ExitCode.error;
        if (opts.json) printJson(runToJson(run));
        else {
          process.stdout.write(
            `run ${run.id} (${run.workflowName}): ${RunState[run.state]}${run.error ? `: ${run.error}` : ""}\n\n`,
          );
          process.stdout.write(`${formatTaskTable(run)}\n`);
        }
        return ExitCode.ok;
      }),
    );
  runs
    .command("watch")
    .description("follow a run's task states until it ends")
    .argument("<run-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .action((runId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const run = await followRun(clients.runs, runId, process.stdout);
        return run.state === RunState.SUCCESS ? ExitCode.ok : ExitCode.failed;
      }),
    );
  runs
    .command("retry")
    .description(
      "retry a finished run's failed and killed tasks (successes are kept)",
    )
    .argument("<run-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--wait", "follow the run again until it ends", false)
    .action((runId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const { run } = await clients.runs.retryRun({ runId });
        process.stdout.write(
          `run ${runId}: ${run ? RunState[run.state] : "?"}\n`,
        );
        if (!opts.wait) return ExitCode.ok;
        const finished = await followRun(clients.runs, runId, process.stdout, {
          reached: true,
        });
        return finished.state === RunState.SUCCESS
          ? ExitCode.ok
          : ExitCode.failed;
      }),
    );
  runs
    .command("cancel")
    .description(
      "cancel a run: queued tasks are killed, running attempts stopped",
    )
    .argument("<run-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--reason <text>", "recorded on the run", "cancelled from the CLI")
    .action((runId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const { run } = await clients.runs.cancelRun({
          runId,
          reason: opts.reason,
        });
        process.stdout.write(
          `run ${runId}: ${run ? RunState[run.state] : "?"}\n`,
        );
        return ExitCode.ok;
      }),
    );
}

/** Runs a command body against the server and sets the exit code. */
export async function withClients(
  flag: string | undefined,
  body: (clients: ReturnType<typeof createApiClients>) => Promise<number>,
): Promise<void> {
  const url = serverUrl(flag);
  try {
    process.exitCode = await body(createApiClients(url));
  } catch (error) {
    process.exitCode = reportError(error, url);
  }
}

export function printTable(header: string[], rows: string[][]): void {
  process.stdout.write(`${formatTable(header, rows)}\n`);
}
