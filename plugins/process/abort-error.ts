import {
  type PluginSdk,
  TaskAbort,
  type TaskError,
} from "../../plugin-sdk/index.js";

/**
 * The error an aborted attempt ends with: retry class `timeout` when the
 * task's timeout elapsed, `error` for a kill, a lost or a stale lease.
 * `what` names the thing that was stopped ("command", "python", ...).
 */
export function abortError(
  sdk: PluginSdk,
  signal: AbortSignal,
  what: string,
  exitCode?: number,
): TaskError {
  const reason = TaskAbort.reasonOf(signal) ?? "killed";
  if (reason === "timeout") {
    return new sdk.TaskError(`${what} timed out`, {
      retryClass: "timeout",
      exitCode,
    });
  }
  return new sdk.TaskError(`${what} was stopped (${reason})`, {
    retryClass: "error",
    exitCode,
  });
}
