import type { Command } from "commander";
import { createLogger, MAX_AGENT_SLOTS } from "../../core/index.js";
import { reportError } from "../cli-output.js";
import {
  collectKeyValues,
  nonEmptyPath,
  positiveInteger,
  serverUrl,
  UsageError,
} from "../key-value.js";
import { surviveStrayErrors } from "../survive-stray-errors.js";

/**
 * How long a second signal waits for the results of the attempts it
 * stopped to be acknowledged before the agent exits.
 */
const RESULT_WAIT_MS = 5_000;

/** A repeatable path flag: each value checked as nonEmptyPath does. */
function collectPaths(flag: string) {
  const path = nonEmptyPath(flag);
  return (value: string, previous: string[]): string[] => [
    ...previous,
    path(value),
  ];
}

/** A repeatable flag naming task types: each a non-empty word. */
function collectTaskTypes(flag: string) {
  return (value: string, previous: string[]): string[] => {
    if (value.trim() === "") {
      throw new UsageError(`${flag}: expected a task type, got an empty value`);
    }
    return [...previous, value.trim()];
  };
}

/**
 * The agent process: SIGTERM drains (finishes attempts); a second stops
 * every attempt's processes and exits; a third exits at once.
 */
export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("run an agent that takes tasks from a control plane")
    .option("--server <url>", "control plane URL (env DEERFLOW_SERVER)")
    .option("--name <name>", "the agent's name (default: the host name)")
    .option(
      "-l, --label <key=value>",
      "a label tasks can select (repeatable)",
      collectKeyValues("--label", false),
      {},
    )
    .option(
      "--slots <n>",
      "most attempts at once (default: CPU count)",
      positiveInteger("--slots", MAX_AGENT_SLOTS),
    )
    .option(
      "--state-dir <dir>",
      "keeps the agent id across restarts; one agent per dir " +
        "(default ~/.deerflow/agent)",
      nonEmptyPath("--state-dir"),
    )
    .option(
      "--work-dir <dir>",
      "parent of attempts' work directories (default: temp)",
      nonEmptyPath("--work-dir"),
    )
    .option(
      "--plugins <dir>",
      "load every plugin module or package in this folder (repeatable)",
      collectPaths("--plugins"),
      [],
    )
    .option(
      "--plugin <path-or-package>",
      "load one plugin: a file, a folder or an installed package (repeatable)",
      collectPaths("--plugin"),
      [],
    )
    .option(
      "--without <type>",
      "leave out a task type: its plugin is neither probed nor offered " +
        "(repeatable; e.g. --without docker)",
      collectTaskTypes("--without"),
      [],
    )
    .option(
      "--drain-grace-ms <ms>",
      "on SIGTERM, how long running attempts may finish",
      positiveInteger("--drain-grace-ms"),
      30_000,
    )
    .action(async (opts) => {
      const logger = createLogger({ base: { component: "agent" } });
      try {
        surviveStrayErrors(logger);
        // Loaded here, not at the top: other commands never pay for it.
        const { startAgent } = await import("../../agent/index.js");
        const agent = await startAgent({
          serverUrl: serverUrl(opts.server),
          name: opts.name,
          labels: opts.label as Record<string, string>,
          slots: opts.slots,
          stateDir: opts.stateDir,
          workRoot: opts.workDir,
          pluginDirs: opts.plugins as string[],
          pluginModules: opts.plugin as string[],
          withoutTypes: opts.without as string[],
          logger,
        });
        // The first signal drains; the second stops the attempts now
        // (each process tree gets its kill grace, then SIGKILL) and
        // exits; a third exits at once.
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals === 1) {
            logger.info(
              { signal, grace_period_ms: opts.drainGraceMs },
              "draining",
            );
            void agent.drain(opts.drainGraceMs);
          } else if (signals === 2) {
            logger.warn({ signal }, "stopping every attempt now");
            void agent
              .close({ resultWaitMs: RESULT_WAIT_MS })
              .finally(() => process.exit(130));
          } else {
            process.exit(130);
          }
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
        await agent.closed;
        process.exit(0);
      } catch (error) {
        process.exitCode = reportError(error);
      }
    });
}
