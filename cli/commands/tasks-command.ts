import type { Command } from "commander";
import { TaskState } from "../../gen/deerflow/v1/run_pb.js";
import { ExitCode } from "../cli-output.js";
import { withClients } from "./runs-command.js";

export function registerTasksCommand(program: Command): void {
  const tasks = program
    .command("tasks")
    .description("kill and retry single tasks");
  tasks
    .command("kill")
    .description(
      "kill a task: a waiting task never starts, a running one is stopped",
    )
    .argument("<run-id>")
    .argument("<task-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--reason <text>", "recorded on the task", "killed from the CLI")
    .action((runId: string, taskId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const { task } = await clients.runs.killTask({
          runId,
          taskId,
          reason: opts.reason,
        });
        process.stdout.write(
          `task ${taskId}: ${task ? TaskState[task.state] : "?"}\n`,
        );
        return ExitCode.ok;
      }),
    );
  tasks
    .command("retry")
    .description("retry a failed or killed task with a fresh set of attempts")
    .argument("<run-id>")
    .argument("<task-id>")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .action((runId: string, taskId: string, opts) =>
      withClients(opts.server, async (clients) => {
        const { task } = await clients.runs.retryTask({ runId, taskId });
        process.stdout.write(
          `task ${taskId}: ${task ? TaskState[task.state] : "?"}\n`,
        );
        return ExitCode.ok;
      }),
    );
}
