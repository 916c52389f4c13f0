import type { Command } from "commander";
import type { LogLine } from "../../gen/deerflow/v1/run_pb.js";
import type { ApiClients } from "../api-clients.js";
import { ExitCode, printJson } from "../cli-output.js";
import { positiveInteger } from "../key-value.js";
import {
  followTaskLogLines,
  formatLogLine,
  logLineToJson,
  readTaskLogLines,
} from "../task-log-lines.js";
import { withClients } from "./runs-command.js";

export function registerLogsCommand(program: Command): void {
  program
    .command("logs")
    .description(
      "print a task's log lines: every attempt's in order, or one attempt's",
    )
    .argument("<run-id>")
    .argument("<task-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--attempt <n>", "only this attempt (1 is the first)")
    .option(
      "--json",
      "print the lines as one JSON array (with --follow, one object a line)",
      false,
    )
    .option("-f, --follow", "then print new lines until the task ends", false)
    .action((runId: string, taskId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const attempt = attemptFlag(opts.attempt);
        if (opts.follow) {
          const lines = followTaskLogLines(clients.runs, {
            runId,
            taskId,
            attempt,
          });
          if (!opts.json) {
            const printed = await printLines(lines, attempt === 0);
            if (printed === 0)
              await sayNoLines(clients, runId, taskId, attempt);
          } else {
            for await (const line of lines) {
              process.stdout.write(`${JSON.stringify(logLineToJson(line))}\n`);
            }
          }
          return ExitCode.ok;
        }
        const lines = readTaskLogLines(clients.runs, runId, taskId, attempt);
        if (opts.json) {
          const all: LogLine[] = [];
          for await (const line of lines) all.push(line);
          printJson(all.map(logLineToJson));
          return ExitCode.ok;
        }
        const printed = await printLines(lines, attempt === 0);
        if (printed === 0) await sayNoLines(clients, runId, taskId, attempt);
        return ExitCode.ok;
      }),
    );
}

/**
 * Says on stderr why nothing was printed (stdout stays the log, empty as
 * it is): an attempt the task never had, or one without lines.
 */
async function sayNoLines(
  clients: ApiClients,
  runId: string,
  taskId: string,
  attempt: number,
): Promise<void> {
  if (attempt > 0) {
    const { run } = await clients.runs.getRun({ runId });
    const had = run?.tasks.find((t) => t.id === taskId)?.attemptCount ?? 0;
    if (attempt > had) {
      process.stderr.write(
        `task ${taskId} of run ${runId} has no attempt ${attempt} ` +
          `(it has had ${had})\n`,
      );
      return;
    }
  }
  const which = attempt === 0 ? "" : ` attempt ${attempt}`;
  process.stderr.write(
    `no log lines for task ${taskId}${which} of run ${runId}\n`,
  );
}

/**
 * Prints lines for people, with a header where each attempt begins;
 * answers how many it printed.
 */
async function printLines(
  lines: AsyncIterable<LogLine>,
  headers: boolean,
): Promise<number> {
  let attempt = 0;
  let printed = 0;
  for await (const line of lines) {
    printed += 1;
    if (headers && line.attempt !== attempt) {
      attempt = line.attempt;
      process.stdout.write(`--- attempt ${attempt} ---\n`);
    }
    process.stdout.write(`${formatLogLine(line)}\n`);
  }
  return printed;
}

function attemptFlag(raw: string | undefined): number {
  return raw === undefined ? 0 : positiveInteger("--attempt")(raw);
}
