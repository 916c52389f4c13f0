import type { TaskLogger } from "../../plugin-sdk/index.js";
import type { CommandResult } from "./run-command.js";
import type {
  CommandLine,
  SparkStatusCommand,
} from "./spark-status-command.js";

/** Options of {@link RemoteKill}. */
export interface RemoteKillOptions {
  /** The attempt's signal: its abort starts the kill. */
  signal: AbortSignal;
  log: TaskLogger;
  /**
   * True when the application runs in the cluster (cluster mode), so
   * that stopping spark-submit alone would leave it running.
   */
  required: boolean;
  /** The kill command for the ids seen so far, if there is one. */
  command(): SparkStatusCommand | undefined;
  /** Runs the kill command to its end (with its own time limit). */
  run(line: CommandLine): Promise<CommandResult>;
}

/**
 * Kills the application in its cluster when the attempt is cancelled or
 * times out, alongside the tree kill of the local spark-submit. The ids
 * are read at the moment of the abort: an abort before spark-submit
 * printed them can only stop the local process, and a cluster-mode
 * driver submitted in that instant keeps running (logged as a warning).
 */
export class RemoteKill {
  readonly #options: RemoteKillOptions;
  #killing: Promise<void> | undefined;
  readonly #onAbort = () => {
    this.#killing ??= this.#kill();
  };

  constructor(options: RemoteKillOptions) {
    this.#options = options;
  }

  /** Starts listening for the abort. */
  arm(): void {
    const { signal } = this.#options;
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Stops listening; a kill already started carries on. */
  disarm(): void {
    this.#options.signal.removeEventListener("abort", this.#onAbort);
  }

  /** Resolves once a started kill has finished (at once if none). */
  settled(): Promise<void> {
    return this.#killing ?? Promise.resolve();
  }

  async #kill(): Promise<void> {
    const { log } = this.#options;
    const command = this.#options.command();
    if (command === undefined) {
      if (this.#options.required) {
        log.warn("spark application not killed: no id or kill command", {});
      }
      return;
    }
    const fields = { command: command.name, id: command.id };
    log.info("killing spark application", fields);
    try {
      const result = await this.#options.run(command.kill());
      if (result.exitCode === 0) {
        log.info("spark application killed", fields);
      } else {
        log.warn("spark kill command failed", {
          ...fields,
          exit_code: result.exitCode,
          output: result.output.trimEnd().split("\n").at(-1) ?? "",
        });
      }
    } catch (error) {
      log.warn("spark kill command could not run", {
        ...fields,
        error: (error as Error).message,
      });
    }
  }
}
