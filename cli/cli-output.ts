import { Code, ConnectError } from "@connectrpc/connect";
import { ValidationProblemsSchema } from "../gen/deerflow/v1/common_pb.js";
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
    return isRefusedDefinition(error) ? ExitCode.failed : ExitCode.error;
  }
  process.stderr.write(`deerflow: ${errorText(error)}\n`);
  return ExitCode.error;
}

/**
 * An error's message for a person. drizzle wraps a driver's error as
 * "Failed query: <statement> params: <values>", which names the
 * statement but not the reason: the driver's own words are its cause.
 */
export function errorText(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: unknown })?.cause;
  if (message.startsWith("Failed query:") && cause instanceof Error) {
    return `a database statement failed: ${cause.message}`;
  }
  return message;
}

/**
 * Whether the server refused a definition: InvalidArgument with the list
 * of its problems attached. Other InvalidArgument answers (a malformed
 * run id, say) are the caller's mistake, exit 2 like a bad flag.
 */
export function isRefusedDefinition(error: ConnectError): boolean {
  return (
    error.code === Code.InvalidArgument &&
    error.findDetails(ValidationProblemsSchema).length > 0
  );
}

/** Pretty JSON on stdout, for --json. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
