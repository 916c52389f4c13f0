import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  NonRetryableError,
  PluginUnavailableError,
  pluginSdk,
  TaskAbort,
  type TaskAbortReason,
} from "../../plugin-sdk/index.js";
import {
  type CollectedLine,
  type RunPluginOptions,
  runPlugin,
} from "../../plugin-sdk/testing.js";
import { isProcessAlive } from "../process/index.js";
import { STAND_IN_SPARK_SUBMIT, STAND_IN_YARN } from "./conformance.js";
import { parseYarnStatus } from "./parse-status-output.js";
import type { SparkConfig } from "./spark-config.js";
import { createSparkPlugin, type SparkPluginOptions } from "./spark-plugin.js";

let stateDir: string;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "deerflow-spark-test-"));
});

afterEach(async () => {
  // A failed assertion must not leave a stand-in running.
  for (const pid of await pids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
  await rm(stateDir, { recursive: true, force: true });
});

/** Status checks come back at once: the tests wait for states, not time. */
const noWait = async () => {};

function plugin(options: SparkPluginOptions = {}) {
  return createSparkPlugin({
    killGraceMs: 2_000,
    sleep: noWait,
    yarn: "/nonexistent/yarn",
    ...options,
  })(pluginSdk);
}

function run(
  config: Omit<SparkConfig, "spark_submit" | "application"> &
    Partial<SparkConfig>,
  extra: Omit<RunPluginOptions<SparkConfig>, "config"> & {
    standIn?: Record<string, string>;
    options?: SparkPluginOptions;
  } = {},
) {
  const { standIn, options, ...rest } = extra;
  return runPlugin(plugin(options), {
    ...rest,
    config: {
      application: "pi.py",
      spark_submit: STAND_IN_SPARK_SUBMIT,
      ...config,
    },
    env: { STAND_IN_SPARK_STATE_DIR: stateDir, ...standIn },
  });
}

async function lines(file: string): Promise<string[]> {
  const text = await readFile(join(stateDir, file), "utf8").catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}

async function pids(): Promise<number[]> {
  return (await lines("pids")).flatMap((l) => l.split(" ").map(Number));
}

function logged(all: CollectedLine[], message: string) {
  return all.filter((l) => l.stream === "log" && l.message === message);
}

describe("spark plugin with a stand-in spark-submit", () => {
  it("stand-in: passes every config key to spark-submit as argv", async () => {
    const result = await run({
      master: "local[2]",
      application: "s3a://bucket/jobs/etl.jar",
      main_class: "com.example.Etl",
      name: "nightly etl",
      executor_memory: "4g",
      executor_cores: 2,
      num_executors: 10,
      driver_memory: "1g",
      spark_conf: { "spark.sql.shuffle.partitions": 200, "spark.x": "a b" },
      packages: ["org.example:lib:1.0", "org.example:other:2.0"],
      files: ["conf.yaml"],
      py_files: ["deps.zip"],
      args: ["--date", "2024-01-01", 3, true, "$(rm -rf /)"],
    });
    expect(result.outcome).toBe("success");
    expect(await lines("submit.args")).toEqual([
      ...["--master", "local[2]", "--deploy-mode", "client"],
      ...["--name", "nightly etl", "--class", "com.example.Etl"],
      ...["--executor-memory", "4g", "--executor-cores", "2"],
      ...["--num-executors", "10", "--driver-memory", "1g"],
      ...["--conf", "spark.sql.shuffle.partitions=200"],
      ...["--conf", "spark.x=a b"],
      ...["--packages", "org.example:lib:1.0,org.example:other:2.0"],
      ...["--files", "conf.yaml", "--py-files", "deps.zip"],
      "s3a://bucket/jobs/etl.jar",
      ...["--date", "2024-01-01", "3", "true", "$(rm -rf /)"],
    ]);
    expect(result.lines).toContainEqual({
      stream: "stdout",
      message: "Pi is roughly 3.14159",
    });
    expect(result.output).toMatchObject({ exit_code: 0 });
  });

  it("stand-in: records the YARN application id while spark-submit runs", async () => {
    const controller = new AbortController();
    let runningWhenSeen = false;
    const result = await run(
      { master: "yarn" },
      {
        standIn: { STAND_IN_SPARK_RUN_SECONDS: "1000" },
        signal: controller.signal,
        options: { yarn: STAND_IN_YARN },
        onLine(line) {
          if (line.message === "spark application submitted") {
            runningWhenSeen = true;
          }
          if (line.message.includes("has started running")) {
            controller.abort(new TaskAbort("killed"));
          }
        },
      },
    );
    expect(runningWhenSeen).toBe(true);
    expect(result.outcome).toBe("killed");
    expect(result.output.application_id).toBe("application_1704067200000_0001");
    expect(logged(result.lines, "spark application submitted")[0]).toEqual(
      expect.objectContaining({
        fields: { application_id: "application_1704067200000_0001" },
      }),
    );
    // Client mode on YARN: the local driver is stopped and the
    // application killed through yarn as well.
    for (const pid of await pids())
      expect(await isProcessAlive(pid)).toBe(false);
    expect(await lines("calls")).toContain(
      "yarn application -kill application_1704067200000_0001",
    );
  });

  it("stand-in: follows a standalone cluster driver to FINISHED", async () => {
    const result = await run(
      { master: "spark://127.0.0.1:6066", deploy_mode: "cluster" },
      {
        standIn: {
          STAND_IN_SPARK_STATES: "SUBMITTED,RUNNING,RUNNING,FINISHED",
        },
      },
    );
    expect(result.outcome).toBe("success");
    const id = "driver-20240101000000-0001";
    expect(result.output).toMatchObject({
      submission_id: id,
      final_state: "FINISHED",
      exit_code: 0,
    });
    const statusCalls = (await lines("calls")).filter((c) =>
      c.startsWith("--status"),
    );
    expect(statusCalls).toEqual(
      Array(4).fill(`--status ${id} --master spark://127.0.0.1:6066`),
    );
    const states = logged(result.lines, "spark application state").map(
      (l) => l.fields?.state,
    );
    expect(states).toEqual(["SUBMITTED", "RUNNING", "FINISHED"]);
  });

  it("stand-in: fails the attempt when the cluster driver fails", async () => {
    const result = await run(
      { master: "mesos://127.0.0.1:7077", deploy_mode: "cluster" },
      { standIn: { STAND_IN_SPARK_STATES: "RUNNING,FAILED" } },
    );
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.message).toBe(
      "spark application driver-20240101000000-0001 ended FAILED",
    );
    expect(result.output.final_state).toBe("FAILED");
  });

  it("stand-in: takes the final status YARN reports while spark-submit waits", async () => {
    const ok = await run({ master: "yarn", deploy_mode: "cluster" });
    expect(ok.outcome).toBe("success");
    expect(ok.output.final_state).toBe("FINISHED/SUCCEEDED");
    expect((await lines("calls")).some((c) => c.startsWith("yarn"))).toBe(
      false,
    );
    const failed = await run(
      { master: "yarn", deploy_mode: "cluster" },
      { standIn: { STAND_IN_SPARK_FINAL: "FAILED" } },
    );
    expect(failed.outcome).toBe("failed");
    expect(failed.exitCode).toBe(1);
    expect(failed.error?.message).toBe("spark-submit exited with code 1");
    expect(failed.output.stderr).toMatch(/finished with failed status/);
  });

  it("stand-in: follows a YARN application with yarn application -status", async () => {
    const result = await run(
      { master: "yarn", deploy_mode: "cluster" },
      {
        options: { yarn: STAND_IN_YARN },
        standIn: {
          STAND_IN_SPARK_NO_WAIT: "1",
          STAND_IN_SPARK_STATES: "ACCEPTED,RUNNING,FINISHED/SUCCEEDED",
        },
      },
    );
    expect(result.outcome).toBe("success");
    expect(result.output).toMatchObject({
      application_id: "application_1704067200000_0001",
      final_state: "FINISHED/SUCCEEDED",
    });
    const yarnCalls = (await lines("calls")).filter((c) =>
      c.startsWith("yarn"),
    );
    expect(yarnCalls).toHaveLength(3);
  });

  it("stand-in: succeeds without following when there is no status command", async () => {
    const result = await run(
      { master: "yarn", deploy_mode: "cluster" },
      { standIn: { STAND_IN_SPARK_NO_WAIT: "1" } },
    );
    expect(result.outcome).toBe("success");
    expect(result.output.final_state).toBeUndefined();
    expect(
      logged(
        result.lines,
        "spark application end not tracked: no status command",
      ),
    ).toHaveLength(1);
  });

  it("stand-in: records both ids of a Kubernetes cluster application", async () => {
    const result = await run(
      {
        master: "k8s://https://127.0.0.1:6443",
        deploy_mode: "cluster",
        name: "pi",
      },
      {
        standIn: {
          STAND_IN_SPARK_NO_WAIT: "1",
          STAND_IN_SPARK_STATES: "Pending,Running,Succeeded",
        },
      },
    );
    expect(result.outcome).toBe("success");
    expect(result.output).toMatchObject({
      application_id: `spark-${"0".repeat(31)}1`,
      submission_id: "default:pi-0000000000000001-driver",
      final_state: "Succeeded",
    });
  });

  it("stand-in: fails after status checks fail maxStatusFailures times", async () => {
    const result = await run(
      { master: "spark://127.0.0.1:6066", deploy_mode: "cluster" },
      {
        standIn: { STAND_IN_SPARK_STATUS_EXIT: "1" },
        options: { maxStatusFailures: 3 },
      },
    );
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.message).toMatch(
      /could not be read 3 times in a row \(spark-submit exited with code 1\)/,
    );
    const warnings = result.lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(2);
  });

  it("uses a plugged-in status command", async () => {
    const asked: string[] = [];
    const result = await run(
      { master: "spark://127.0.0.1:6066", deploy_mode: "cluster" },
      {
        options: {
          statusCommand: (target) => ({
            name: "custom",
            id: target.ids.submissionId ?? "?",
            status: () => {
              asked.push(target.ids.submissionId ?? "?");
              return { file: "/bin/echo", args: ["State : FINISHED"] };
            },
            parseStatus: (output) =>
              parseYarnStatus(`${output}\nFinal-State : SUCCEEDED`),
            kill: () => ({ file: "/bin/true", args: [] }),
          }),
        },
      },
    );
    expect(result.outcome).toBe("success");
    expect(result.output.final_state).toBe("FINISHED/SUCCEEDED");
    expect(asked).toEqual(["driver-20240101000000-0001"]);
  });

  it("stand-in: fails with spark-submit's exit code and its stderr tail", async () => {
    const result = await run(
      { master: "local[1]" },
      { standIn: { STAND_IN_SPARK_EXIT: "3" } },
    );
    expect(result.outcome).toBe("failed");
    expect(result.exitCode).toBe(3);
    expect(result.error?.retryable).toBe(true);
    expect(result.output.exit_code).toBe(3);
    expect(result.output.stderr).toMatch(/Running Spark version 3\.5\.1/);
  });
});

describe("spark plugin stop (stand-in)", () => {
  async function stopWhen(
    config: Partial<SparkConfig> & { master: string },
    standIn: Record<string, string>,
    when: (line: CollectedLine) => boolean,
    reason: TaskAbortReason,
    options: SparkPluginOptions = {},
  ) {
    const controller = new AbortController();
    return run(config, {
      standIn,
      options,
      signal: controller.signal,
      onLine(line) {
        if (when(line)) controller.abort(new TaskAbort(reason));
      },
    });
  }

  it("stand-in: cancel kills a followed cluster driver with --kill", async () => {
    const result = await stopWhen(
      { master: "spark://127.0.0.1:6066", deploy_mode: "cluster" },
      { STAND_IN_SPARK_STATES: "RUNNING" },
      (line) => line.fields?.state === "RUNNING",
      "killed",
      { sleep: undefined, statusIntervalMs: 50 },
    );
    expect(result.outcome).toBe("killed");
    expect(result.error?.retryClass).toBe("error");
    const id = "driver-20240101000000-0001";
    expect(await lines("calls")).toContain(
      `--kill ${id} --master spark://127.0.0.1:6066`,
    );
    expect(logged(result.lines, "spark application killed")).toHaveLength(1);
  });

  it("stand-in: timeout stops spark-submit's tree and kills the YARN app", async () => {
    const result = await stopWhen(
      { master: "yarn", deploy_mode: "cluster" },
      { STAND_IN_SPARK_RUN_SECONDS: "1000" },
      (line) => line.message.includes("(state: RUNNING)"),
      "timeout",
      { yarn: STAND_IN_YARN },
    );
    expect(result.outcome).toBe("timed_out");
    expect(result.error?.retryClass).toBe("timeout");
    const found = await pids();
    expect(found).toHaveLength(2);
    for (const pid of found) expect(await isProcessAlive(pid)).toBe(false);
    expect(await lines("calls")).toContain(
      "yarn application -kill application_1704067200000_0001",
    );
  });
});

describe("spark plugin config and probe", () => {
  it("refuses a cluster deploy mode with a local master, naming the field", async () => {
    const result = await run({ master: "local[*]", deploy_mode: "cluster" });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toBe(
      "config.deploy_mode: cluster cannot be used with a local master",
    );
  });

  it("names config.spark_submit when it is not executable", async () => {
    const result = await run({
      master: "yarn",
      spark_submit: join(stateDir, "missing"),
    });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(/^config\.spark_submit: /);
  });

  it("stand-in: probe reads spark_version from --version", async () => {
    const spark = createSparkPlugin({ sparkSubmit: STAND_IN_SPARK_SUBMIT })(
      pluginSdk,
    );
    expect(await spark.probe?.()).toEqual({ spark_version: "3.5.1" });
  });

  it("probe says unavailable where no spark-submit is found", async () => {
    const spark = createSparkPlugin({ env: { PATH: stateDir } })(pluginSdk);
    const probing = Promise.resolve(spark.probe?.());
    await expect(probing).rejects.toBeInstanceOf(PluginUnavailableError);
    await expect(probing).rejects.toThrow(/spark-submit not found/);
  });

  it("stand-in: probe finds spark-submit under SPARK_HOME", async () => {
    await mkdir(join(stateDir, "bin"));
    await symlink(STAND_IN_SPARK_SUBMIT, join(stateDir, "bin", "spark-submit"));
    const spark = createSparkPlugin({
      env: {
        PATH: "/usr/bin:/bin",
        SPARK_HOME: stateDir,
        STAND_IN_SPARK_VERSION: "3.4.2",
      },
    })(pluginSdk);
    expect(await spark.probe?.()).toEqual({ spark_version: "3.4.2" });
  });
});
