import { parseSubmitStatus, parseYarnStatus } from "./parse-status-output.js";
import type { SparkApplicationStatus } from "./spark-application-status.js";
import type { DeployMode } from "./spark-config.js";
import type { ClusterManager } from "./spark-master.js";
import type { SparkIds } from "./spark-output-watcher.js";

/** A program and its arguments, run without a shell. */
export interface CommandLine {
  file: string;
  args: string[];
}

/**
 * How to ask a cluster manager about one application and how to kill it.
 * The plugin runs the command lines itself; an implementation only builds
 * them and reads the answer, so a new cluster manager (or a test) plugs
 * in by supplying one of these.
 */
export interface SparkStatusCommand {
  /** Named in logs, for example "yarn application". */
  readonly name: string;
  /** The id the commands take. */
  readonly id: string;
  /** The command that prints the application's status. */
  status(): CommandLine;
  /** Reads its output; undefined when the output holds no state. */
  parseStatus(output: string): SparkApplicationStatus | undefined;
  /** The command that kills the application. */
  kill(): CommandLine;
}

/** What a status command is chosen from. */
export interface StatusCommandTarget {
  manager: ClusterManager;
  deployMode: DeployMode;
  master: string;
  /** The ids seen in spark-submit's output so far. */
  ids: SparkIds;
  /** The spark-submit the task ran. */
  sparkSubmit: string;
  /** The yarn CLI, when one was found. */
  yarn: string | undefined;
}

/**
 * Picks the status command for a submitted application, or undefined
 * when there is none (a local master, an id not seen, YARN without its
 * CLI). The plugin option `statusCommand` replaces it.
 */
export type StatusCommandFactory = (
  target: StatusCommandTarget,
) => SparkStatusCommand | undefined;

/**
 * The default choice: `yarn application -status/-kill` on YARN when the
 * yarn CLI is there; `spark-submit --status/--kill <submission id>` for
 * a standalone, Mesos or Kubernetes cluster-mode driver. In client mode
 * those clusters have no submission id: the driver is the local
 * spark-submit, and stopping it ends the application.
 */
export const defaultStatusCommand: StatusCommandFactory = (target) => {
  const { ids } = target;
  switch (target.manager) {
    case "yarn":
      if (target.yarn === undefined || ids.applicationId === undefined) {
        return undefined;
      }
      return yarnStatusCommand(target.yarn, ids.applicationId);
    case "standalone":
    case "mesos":
    case "kubernetes":
      if (ids.submissionId === undefined) return undefined;
      return submitStatusCommand(
        target.sparkSubmit,
        target.master,
        ids.submissionId,
      );
    case "local":
      return undefined;
  }
};

/** `spark-submit --status|--kill <submission id> --master <url>`. */
export function submitStatusCommand(
  sparkSubmit: string,
  master: string,
  submissionId: string,
): SparkStatusCommand {
  const line = (flag: string) => ({
    file: sparkSubmit,
    args: [flag, submissionId, "--master", master],
  });
  return {
    name: "spark-submit",
    id: submissionId,
    status: () => line("--status"),
    parseStatus: parseSubmitStatus,
    kill: () => line("--kill"),
  };
}

/** `yarn application -status|-kill <application id>`. */
export function yarnStatusCommand(
  yarn: string,
  applicationId: string,
): SparkStatusCommand {
  const line = (flag: string) => ({
    file: yarn,
    args: ["application", flag, applicationId],
  });
  return {
    name: "yarn application",
    id: applicationId,
    status: () => line("-status"),
    parseStatus: parseYarnStatus,
    kill: () => line("-kill"),
  };
}
