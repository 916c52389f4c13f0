import { Command, CommanderError } from "commander";
import { VERSION } from "../core/index.js";
import { ExitCode } from "./cli-output.js";
import { registerAgentCommand } from "./commands/agent-command.js";
import { registerAgentsCommand } from "./commands/agents-command.js";
import { registerDevCommand } from "./commands/dev-command.js";
import { registerExplainCommand } from "./commands/explain-command.js";
import { registerLogsCommand } from "./commands/logs-command.js";
import { registerPluginCommand } from "./commands/plugin-command.js";
import { registerRunCommand } from "./commands/run-command.js";
import { registerRunsCommand } from "./commands/runs-command.js";
import { registerServerCommand } from "./commands/server-command.js";
import { registerTasksCommand } from "./commands/tasks-command.js";
import { registerValidateCommand } from "./commands/validate-command.js";
import { registerWorkflowsCommand } from "./commands/workflows-command.js";
import { UsageError } from "./key-value.js";
import { registerSecretsCommand } from "./secrets-command.js";

/** The `deerflow` command line. */
export function buildProgram(): Command {
  const program = new Command("deerflow")
    .description(
      "Deer Flow: workflows on a control plane and agents on any host",
    )
    .version(VERSION)
    // The root's options (only --version and --help) count before the
    // command name alone, so `workflows get NAME --version 2` is that
    // command's flag, not a request for the program's version.
    .enablePositionalOptions()
    .showHelpAfterError();
  registerServerCommand(program);
  registerAgentCommand(program);
  registerDevCommand(program);
  registerRunCommand(program);
  registerRunsCommand(program);
  registerTasksCommand(program);
  registerLogsCommand(program);
  registerAgentsCommand(program);
  registerExplainCommand(program);
  registerValidateCommand(program);
  registerSecretsCommand(program);
  registerWorkflowsCommand(program);
  registerPluginCommand(program);
  // Commander copies exitOverride into a subcommand only when the
  // subcommand is created, so it is set on every command here: a bad flag
  // anywhere must reach main() and exit 2, not commander's own exit 1.
  forEachCommand(program, (command) => command.exitOverride());
  return program;
}

function forEachCommand(
  command: Command,
  visit: (command: Command) => void,
): void {
  visit(command);
  for (const sub of command.commands) forEachCommand(sub, visit);
}

/** Runs the CLI on argv and resolves when the command's work is done. */
export async function main(argv: readonly string[]): Promise<void> {
  // `deerflow runs ls | head` closes stdout early: that is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message and help.
      process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.error;
    } else if (error instanceof UsageError) {
      process.stderr.write(`deerflow: ${error.message}\n`);
      process.exitCode = ExitCode.error;
    } else {
      throw error;
    }
  }
}
