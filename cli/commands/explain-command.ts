import type { Command } from "commander";
import { TaskState } from "../../gen/deerflow/v1/run_pb.js";
import { MAX_VERDICT_ROWS, verdictRows } from "../agent-verdicts.js";
import { ExitCode, printJson } from "../cli-output.js";
import { printTable, withClients } from "./runs-command.js";

/** `deerflow explain RUN TASK`: why a task is where it is. */
export function registerExplainCommand(program: Command): void {
  program
    .command("explain")
    .description(
      "say why a task waits: which agents could take it, and what the others lack",
    )
    .argument("<run-id>")
    .argument("<task-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--json", "print the explanation as JSON", false)
    .option(
      "--all",
      `list every agent (past ${MAX_VERDICT_ROWS}, agents with the same reason share a row)`,
      false,
    )
    .action((runId: string, taskId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const answer = await clients.runs.explainTask({ runId, taskId });
        if (opts.json) {
          const agents = Object.entries(answer.agents).sort(([a], [b]) =>
            a.localeCompare(b),
          );
          printJson({
            state: TaskState[answer.state],
            summary: answer.summary,
            agents: Object.fromEntries(agents),
          });
          return ExitCode.ok;
        }
        process.stdout.write(
          `task ${taskId}: ${TaskState[answer.state]}: ${answer.summary}\n`,
        );
        const { rows, hidden } = verdictRows(answer.agents, {
          all: opts.all,
        });
        if (rows.length > 0) {
          process.stdout.write("\n");
          printTable(["AGENT", "WHY"], rows);
        }
        if (hidden > 0) {
          process.stdout.write(
            `… and ${hidden} more agents with other reasons (--all lists every agent)\n`,
          );
        }
        return ExitCode.ok;
      }),
    );
}
