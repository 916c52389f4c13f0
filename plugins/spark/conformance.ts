/**
 * The spark plugin's cases for the shared conformance suite, run against
 * the stand-in spark-submit in testdata/ (no JVM or cluster runs here).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConformanceCases } from "../../plugin-sdk/conformance.js";
import { isProcessAlive } from "../process/index.js";

/** The stand-in spark-submit script. */
export const STAND_IN_SPARK_SUBMIT = fileURLToPath(
  new URL("./testdata/stand-in-spark-submit", import.meta.url),
);

/** The stand-in yarn CLI script. */
export const STAND_IN_YARN = fileURLToPath(
  new URL("./testdata/stand-in-yarn", import.meta.url),
);

/**
 * Prepares the cases: a state directory for the stand-in, removed by
 * `dispose`. The long run is a YARN cluster-mode application that
 * spark-submit waits for; `stopped` checks that the stand-in and its
 * child process are gone.
 */
export async function sparkConformance(): Promise<{
  cases: ConformanceCases;
  dispose(): Promise<void>;
}> {
  const stateDir = await mkdtemp(join(tmpdir(), "deerflow-spark-conf-"));
  const env = { STAND_IN_SPARK_STATE_DIR: stateDir };
  const base = { spark_submit: STAND_IN_SPARK_SUBMIT, application: "pi.py" };
  const cases: ConformanceCases = {
    success: {
      config: { ...base, master: "local[2]", args: ["10"] },
      env,
      check(run) {
        if (run.output.exit_code !== 0) throw new Error("exit_code is not 0");
      },
    },
    failure: {
      config: { ...base, master: "local[2]" },
      env: { ...env, STAND_IN_SPARK_EXIT: "1" },
    },
    longRunning: {
      config: { ...base, master: "yarn", deploy_mode: "cluster" },
      env: { ...env, STAND_IN_SPARK_RUN_SECONDS: "1000" },
      started: (line) => line.message.includes("(state: RUNNING)"),
      stopped: () => applicationStopped(stateDir),
    },
    invalidConfigs: [
      { config: { master: "yarn" }, field: "config.application" },
      {
        config: { application: "a.jar", master: "yarn", deploy_mode: "both" },
        field: "config.deploy_mode",
      },
      {
        config: { application: "a.jar", master: "yarn", executor_cores: 0 },
        field: "config.executor_cores",
      },
      {
        config: {
          application: "a.jar",
          master: "yarn",
          executor_memory: "4 GB",
        },
        field: "config.executor_memory",
      },
    ],
  };
  return {
    cases,
    dispose: () => rm(stateDir, { recursive: true, force: true }),
  };
}

/** True once the pids the stand-in wrote are all gone (or none were). */
async function applicationStopped(stateDir: string): Promise<boolean> {
  const text = await readFile(join(stateDir, "pids"), "utf8").catch(() => "");
  const pids = text.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    if (await isProcessAlive(pid)) return false;
  }
  return true;
}
