import type { SparkApplicationStatus } from "./spark-application-status.js";
import type { ClusterManager } from "./spark-master.js";

/** The ids of a submitted application, as spark-submit prints them. */
export interface SparkIds {
  /**
   * The application id: `application_<ts>_<n>` on YARN,
   * `app-<ts>-<n>` on a standalone cluster, `spark-<hex>` on Kubernetes.
   */
  applicationId?: string;
  /**
   * The id a cluster-mode driver was submitted as, which `--status` and
   * `--kill` take: `driver-<ts>-<n>` on a standalone or Mesos cluster,
   * `<namespace>:<driver pod>` on Kubernetes.
   */
  submissionId?: string;
}

/** What to look for in the output, by cluster manager. */
const ID_PATTERNS: Record<
  ClusterManager,
  { application?: RegExp; submission?: RegExp }
> = {
  yarn: { application: /\bapplication_\d+_\d+\b/ },
  standalone: {
    application: /\bapp-\d+-\d+\b/,
    submission: /\bdriver-\d+-\d+\b/,
  },
  mesos: { submission: /\bdriver-\d+-\d+\b/ },
  // The application id is "spark-" and a UUID without its dashes.
  kubernetes: {
    application: /\bspark-[0-9a-f]{32}\b/,
    submission: /\bsubmission ID ([^\s:]+:[^\s:]+)/,
  },
  local: {},
};
/** YARN's client: "Application report for <id> (state: RUNNING)". */
const YARN_REPORT = /Application report for \S+ \(state: ([A-Z_]+)\)/;
/** YARN's client, below a final report: "final status: SUCCEEDED". */
const YARN_FINAL_STATUS = /^\s*final status: ([A-Z_]+)/;
/** Kubernetes' watcher: "Application status for <id> (phase: Running)". */
const KUBERNETES_PHASE = /\(phase: ([A-Za-z]+)\)/;

const YARN_FINAL_STATES = new Set(["FINISHED", "FAILED", "KILLED"]);

/**
 * Reads spark-submit's output line by line and picks out the ids and the
 * last state it reported. `onIds` is called once for each id as soon as
 * its line is seen, so the attempt records it while spark-submit runs.
 */
export class SparkOutputWatcher {
  readonly ids: SparkIds = {};
  #state: SparkApplicationStatus | undefined;
  #yarnState: string | undefined;
  readonly #patterns: { application?: RegExp; submission?: RegExp };
  readonly #onIds: (ids: SparkIds) => void;

  constructor(manager: ClusterManager, onIds: (ids: SparkIds) => void) {
    this.#patterns = ID_PATTERNS[manager];
    this.#onIds = onIds;
  }

  /** The last state reported, if spark-submit reported any. */
  get state(): SparkApplicationStatus | undefined {
    return this.#state;
  }

  /** Feeds one line of stdout or stderr. */
  push(line: string): void {
    this.#readIds(line);
    this.#readState(line);
  }

  #readIds(line: string): void {
    const found: SparkIds = {};
    const { application, submission } = this.#patterns;
    if (this.ids.applicationId === undefined && application) {
      const match = application.exec(line);
      if (match) found.applicationId = match[1] ?? match[0];
    }
    if (this.ids.submissionId === undefined && submission) {
      const match = submission.exec(line);
      if (match) found.submissionId = match[1] ?? match[0];
    }
    if (found.applicationId === undefined && found.submissionId === undefined) {
      return;
    }
    Object.assign(this.ids, found);
    this.#onIds(found);
  }

  #readState(line: string): void {
    const yarn = YARN_REPORT.exec(line)?.[1];
    if (yarn !== undefined) {
      this.#yarnState = yarn;
      // FINISHED alone says nothing of success: the final status follows.
      this.#state = {
        state: yarn,
        final: yarn === "FAILED" || yarn === "KILLED",
        succeeded: false,
      };
      return;
    }
    const status = YARN_FINAL_STATUS.exec(line)?.[1];
    if (status !== undefined && YARN_FINAL_STATES.has(this.#yarnState ?? "")) {
      this.#state = {
        state: `${this.#yarnState}/${status}`,
        final: status !== "UNDEFINED",
        succeeded: status === "SUCCEEDED",
      };
      return;
    }
    const phase = KUBERNETES_PHASE.exec(line)?.[1];
    if (phase !== undefined) {
      this.#state = {
        state: phase,
        final: phase === "Succeeded" || phase === "Failed",
        succeeded: phase === "Succeeded",
      };
    }
  }
}
