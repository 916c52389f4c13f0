import type { PluginSdk, TaskError } from "../../plugin-sdk/index.js";

/** Traceback lines kept in an error message (the log has all of them). */
const TRACEBACK_LINES = 8;
/** What a shell prints for a command it cannot find (pyenv shims too). */
const NOT_FOUND_EXIT_CODE = 127;

/** What the Python runner writes to its result file. */
export type RunnerRecord =
  | { result: unknown }
  | { error: { type: string; message: string; traceback: string } }
  | { not_json: { type: string; message: string } }
  | { missing_function: string };

/** What is known about a python run that produced no result. */
export interface RunnerFailure {
  record: RunnerRecord | undefined;
  interpreter: string;
  exitCode: number;
}

/** The error for a run without a result, from the runner's record. */
export function runnerError(
  sdk: PluginSdk,
  { record, interpreter, exitCode }: RunnerFailure,
): TaskError {
  if (record === undefined) {
    if (exitCode === NOT_FOUND_EXIT_CODE) {
      return new sdk.NonRetryableError(
        `python interpreter "${interpreter}" not found (exit code 127)`,
        { exitCode },
      );
    }
    return new sdk.TaskError(
      `python exited with code ${exitCode} without a result`,
      { exitCode },
    );
  }
  if ("error" in record) {
    const { type, message, traceback } = record.error;
    const lines = traceback.trimEnd().split("\n");
    // The last line repeats "Type: message"; the frames before it say where.
    const frames = lines.slice(-TRACEBACK_LINES - 1, -1).join("\n");
    return new sdk.TaskError(`${type}: ${message}\n${frames}`, { exitCode });
  }
  if ("not_json" in record) {
    const { type, message } = record.not_json;
    return new sdk.NonRetryableError(
      `the result (a ${type}) cannot be written as JSON: ${message}`,
      { exitCode },
    );
  }
  if ("missing_function" in record) {
    return new sdk.NonRetryableError(
      `function "${record.missing_function}" is not defined ` +
        "by the script or code",
      { exitCode },
    );
  }
  return new sdk.TaskError("python runner wrote an unknown result", {
    exitCode,
  });
}
