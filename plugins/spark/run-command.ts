import { OutputTail, runProcess } from "../process/index.js";
import type { CommandLine } from "./spark-status-command.js";

/** How much of a status or kill command's output is kept: 64 KiB. */
const OUTPUT_BYTES = 65_536;

/** How a status or kill command ended. */
export interface CommandResult {
  exitCode: number;
  /** Its stdout and stderr lines, interleaved, the last 64 KiB. */
  output: string;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Stops the command (its process group) when aborted. */
  signal: AbortSignal;
  killGraceMs: number;
}

/**
 * Runs a short command (a status query, a kill) to its end and keeps its
 * output. Rejects only when the program cannot be started.
 */
export async function runCommand(
  line: CommandLine,
  options: RunCommandOptions,
): Promise<CommandResult> {
  const tail = new OutputTail(OUTPUT_BYTES);
  const push = (text: string) => tail.push(text);
  const exit = await runProcess({
    file: line.file,
    args: line.args,
    cwd: options.cwd,
    env: options.env,
    signal: options.signal,
    killGraceMs: options.killGraceMs,
    onStdout: push,
    onStderr: push,
  });
  return { exitCode: exit.exitCode, output: tail.toString() };
}

/**
 * The environment of the status and kill commands: the task's, without
 * the attempt's marker. The marker makes the tree kill of spark-submit
 * stop every process carrying it, and a kill command must outlive that.
 */
export function commandEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DEERFLOW_WORK_DIR: _marker, ...rest } = env;
  return rest;
}
