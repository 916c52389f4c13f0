import type { TaskLogger } from "../../plugin-sdk/index.js";
import type { CommandResult } from "./run-command.js";
import type { SparkApplicationStatus } from "./spark-application-status.js";
import type {
  CommandLine,
  SparkStatusCommand,
} from "./spark-status-command.js";

/** Waits `ms`, or less when the signal aborts; never rejects. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Options of {@link trackApplication}. */
export interface TrackApplicationOptions {
  command: SparkStatusCommand;
  /** Runs one command line to its end. */
  run(line: CommandLine): Promise<CommandResult>;
  /** Time between two status checks, in milliseconds. */
  intervalMs: number;
  /** Failed status checks in a row that end the tracking. */
  maxFailures: number;
  sleep: Sleep;
  /** Aborting it ends the tracking (the caller kills the application). */
  signal: AbortSignal;
  log: TaskLogger;
}

/** The status could not be learned `maxFailures` times in a row. */
export class StatusUnknownError extends Error {
  override readonly name = "StatusUnknownError";
  readonly code = "status_unknown";
}

/**
 * Asks for the application's status until it is final, and returns that
 * status. A check that fails (non-zero exit, no state in the output)
 * is logged and retried; `maxFailures` of them in a row throw a
 * {@link StatusUnknownError}. Returns undefined when the signal aborts.
 */
export async function trackApplication(
  options: TrackApplicationOptions,
): Promise<SparkApplicationStatus | undefined> {
  const { command, log, signal } = options;
  let failures = 0;
  let last: string | undefined;
  for (;;) {
    if (signal.aborted) return undefined;
    const result = await options.run(command.status());
    if (signal.aborted) return undefined;
    const status =
      result.exitCode === 0 ? command.parseStatus(result.output) : undefined;
    if (status === undefined) {
      failures += 1;
      const fields = {
        command: command.name,
        id: command.id,
        exit_code: result.exitCode,
        failures,
      };
      if (failures >= options.maxFailures) {
        log.error("spark status check failed; giving up", fields);
        throw new StatusUnknownError(
          `the status of spark application ${command.id} could not be ` +
            `read ${failures} times in a row (${command.name} exited ` +
            `with code ${result.exitCode}): ${lastLine(result.output)}`,
        );
      }
      log.warn("spark status check failed; retrying", {
        ...fields,
        next_check_ms: options.intervalMs,
      });
    } else {
      failures = 0;
      if (status.state !== last) {
        log.info("spark application state", {
          id: command.id,
          state: status.state,
        });
        last = status.state;
      }
      if (status.final) return status;
    }
    await options.sleep(options.intervalMs, signal);
  }
}

function lastLine(output: string): string {
  const lines = output.trimEnd().split("\n");
  return lines.at(-1) || "(no output)";
}
