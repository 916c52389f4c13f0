import { Code, ConnectError } from "@connectrpc/connect";
import { UsageError } from "./key-value.js";

/** Exit codes of every command. */
export const ExitCode = {
  ok: 0,
  /** The run failed, or the definition is invalid. */
  failed: 1,
  /** Bad flags, an unreachable server, or another error. */
  error: 2,
} as const;

/** Prints an error for a person and returns the exit code it means. */
export function reportError(error: unknown, serverUrl?: string): number {
  if (error instanceof UsageError) {
    process.stderr.write(`deerflow: ${error.message}\n`);
    return ExitCode.error;
  }
  if (error instanceof ConnectError) {
    if (error.code === Code.Unavailable && serverUrl) {
      process.stderr.write(
        `deerflow: cannot reach the control plane at ${serverUrl} (${error.rawMessage}).\n` +
          "Start one with `deerflow server`, or set --server / DEERFLOW_SERVER.\n",
      );
      return ExitCode.error;
    }
    process.stderr.write(`deerflow: ${error.rawMessage}\n`);
    return error.code === Code.InvalidArgument
      ? ExitCode.failed
      : ExitCode.error;
  }
  process.stderr.write(
    `deerflow: ${(error as Error)?.message ?? String(error)}\n`,
  );
  return ExitCode.error;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
