import type {
  ExecuteResult,
  JsonObject,
  PluginSdk,
  TaskContext,
} from "../../plugin-sdk/index.js";
import {
  abortError,
  type ProcessExit,
  resolveKillGraceMs,
  runProcess,
  taskEnvironment,
} from "../process/index.js";
import { findSparkSubmit, findYarn } from "./find-executable.js";
import { probeSpark } from "./probe-spark.js";
import { RemoteKill } from "./remote-kill.js";
import { commandEnvironment, runCommand } from "./run-command.js";
import type { SparkApplicationStatus } from "./spark-application-status.js";
import { buildSparkSubmission, type SparkSubmission } from "./spark-argv.js";
import { type SparkConfig, sparkConfigSchema } from "./spark-config.js";
import { SparkConfigError } from "./spark-config-error.js";
import { type SparkIds, SparkOutputWatcher } from "./spark-output-watcher.js";
import {
  defaultStatusCommand,
  type SparkStatusCommand,
  type StatusCommandFactory,
} from "./spark-status-command.js";
import {
  type Sleep,
  StatusUnknownError,
  trackApplication,
} from "./track-application.js";

/** Options of the spark plugin, fixed when the agent loads it. */
export interface SparkPluginOptions {
  /**
   * Time between SIGTERM and SIGKILL when spark-submit is stopped.
   * Default: `DEERFLOW_KILL_GRACE_MS` from the agent's environment, else
   * 5000.
   */
  killGraceMs?: number;
  /** Time between status checks of a cluster-mode application. Default 5000. */
  statusIntervalMs?: number;
  /** Failed status checks in a row before the attempt fails. Default 5. */
  maxStatusFailures?: number;
  /** How long one status check may take, in ms. Default 120000. */
  statusTimeoutMs?: number;
  /** How long the kill command may take, in ms. Default 60000. */
  killTimeoutMs?: number;
  /** The spark-submit used by probe() and by tasks that set none. */
  sparkSubmit?: string;
  /** Hadoop's yarn CLI. Default: $HADOOP_HOME/bin/yarn, else yarn on PATH. */
  yarn?: string;
  /** Picks the status and kill commands. Default {@link defaultStatusCommand}. */
  statusCommand?: StatusCommandFactory;
  /** Waits between status checks; tests inject their own. */
  sleep?: Sleep;
  /** The environment probe() searches. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

const DEFAULTS = {
  statusIntervalMs: 5_000,
  maxStatusFailures: 5,
  statusTimeoutMs: 120_000,
  killTimeoutMs: 60_000,
};

/** Makes a spark plugin factory with the given options. */
export function createSparkPlugin(options: SparkPluginOptions = {}) {
  return (sdk: PluginSdk) =>
    sdk.definePlugin<SparkConfig>({
      type: "spark",
      version: "1.0.0",
      description:
        "Submits a Spark application with spark-submit and follows it.",
      configSchema: sparkConfigSchema,
      probe: () =>
        probeSpark(sdk, {
          ...(options.sparkSubmit ? { sparkSubmit: options.sparkSubmit } : {}),
          ...(options.env ? { env: options.env } : {}),
        }),
      execute: (ctx) => executeSpark(sdk, options, ctx),
    });
}

/** The built-in `spark` task type. */
export const sparkPlugin = createSparkPlugin();
export default sparkPlugin;

/** What one attempt works with once its config is checked. */
interface SparkRun {
  sdk: PluginSdk;
  options: SparkPluginOptions;
  ctx: TaskContext<SparkConfig>;
  submission: SparkSubmission;
  sparkSubmit: string;
  env: NodeJS.ProcessEnv;
  killGraceMs: number;
  watcher: SparkOutputWatcher;
  remoteKill: RemoteKill;
  /** The status and kill commands for the ids seen so far. */
  statusCommand(): SparkStatusCommand | undefined;
}

async function executeSpark(
  sdk: PluginSdk,
  options: SparkPluginOptions,
  ctx: TaskContext<SparkConfig>,
): Promise<ExecuteResult> {
  const run = await prepare(sdk, options, ctx);
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "spark-submit");
  run.remoteKill.arm();
  try {
    const exit = await submit(run);
    const output: JsonObject = {
      exit_code: exit.exitCode,
      stdout: exit.stdoutTail,
      stderr: exit.stderrTail,
    };
    ctx.output(output);
    if (exit.strayProcessesStopped) {
      ctx.log.warn("spark-submit left processes running; they were stopped");
    }
    if (exit.aborted) {
      await run.remoteKill.settled();
      throw abortError(sdk, ctx.signal, "spark-submit", exit.exitCode);
    }
    if (exit.exitCode !== 0) {
      throw new sdk.TaskError(
        `spark-submit exited with code ${exit.exitCode}`,
        { exitCode: exit.exitCode },
      );
    }
    await follow(run);
    return { exitCode: 0 };
  } finally {
    run.remoteKill.disarm();
    // An abort that raced the end of the run may have started a kill.
    await run.remoteKill.settled();
  }
}

async function prepare(
  sdk: PluginSdk,
  options: SparkPluginOptions,
  ctx: TaskContext<SparkConfig>,
): Promise<SparkRun> {
  let submission: SparkSubmission;
  try {
    submission = buildSparkSubmission(ctx.config);
  } catch (error) {
    if (!(error instanceof SparkConfigError)) throw error;
    throw new sdk.NonRetryableError(error.message, { cause: error });
  }
  const env = taskEnvironment(ctx);
  const configured = ctx.config.spark_submit ?? options.sparkSubmit;
  const sparkSubmit = await findSparkSubmit(configured, env);
  if (sparkSubmit === undefined) {
    throw new sdk.NonRetryableError(
      configured === undefined
        ? "spark-submit not found: set config.spark_submit, SPARK_HOME, " +
            "or put spark-submit on PATH"
        : `config.spark_submit: "${configured}" is not an executable file`,
    );
  }
  const yarn =
    submission.manager === "yarn"
      ? await findYarn(options.yarn, env)
      : undefined;
  const killGraceMs = resolveKillGraceMs(options.killGraceMs);
  const factory = options.statusCommand ?? defaultStatusCommand;
  const watcher = new SparkOutputWatcher(submission.manager, (ids) => {
    const fields = idFields(ids);
    ctx.output(fields);
    ctx.log.info("spark application submitted", fields);
  });
  const statusCommand = () =>
    factory({ ...submission, ids: watcher.ids, sparkSubmit, yarn });
  const remoteKill = new RemoteKill({
    signal: ctx.signal,
    log: ctx.log,
    required: submission.deployMode === "cluster",
    command: statusCommand,
    // The time limit starts when the kill does.
    run: (line) =>
      runCommand(line, {
        cwd: ctx.workDir,
        env: commandEnvironment(env),
        signal: AbortSignal.timeout(
          options.killTimeoutMs ?? DEFAULTS.killTimeoutMs,
        ),
        killGraceMs,
      }),
  });
  return {
    ...{ sdk, options, ctx, submission, sparkSubmit, env, killGraceMs },
    ...{ watcher, remoteKill, statusCommand },
  };
}

async function submit(run: SparkRun): Promise<ProcessExit> {
  const { ctx, submission, sdk } = run;
  ctx.log.info("spark-submit started", {
    spark_submit: run.sparkSubmit,
    master: submission.master,
    deploy_mode: submission.deployMode,
  });
  const stream = (to: (line: string) => void) => (line: string) => {
    run.watcher.push(line);
    to(line);
  };
  try {
    return await runProcess({
      file: run.sparkSubmit,
      args: submission.argv,
      cwd: ctx.workDir,
      env: run.env,
      signal: ctx.signal,
      killGraceMs: run.killGraceMs,
      onStdout: stream((line) => ctx.streams.stdout(line)),
      onStderr: stream((line) => ctx.streams.stderr(line)),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = `spark-submit "${run.sparkSubmit}" cannot be run`;
    if (code === "ENOENT" || code === "EACCES") {
      throw new sdk.NonRetryableError(`${message} (${code})`, { cause: error });
    }
    throw new sdk.TaskError(`${message}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * In cluster mode spark-submit may return while the driver still runs
 * (always on a standalone or Mesos cluster; on YARN and Kubernetes when
 * told not to wait): follow the application to its final state.
 */
async function follow(run: SparkRun): Promise<void> {
  const { ctx, sdk, submission } = run;
  if (submission.deployMode !== "cluster") return;
  let status = run.watcher.state;
  if (!status?.final) {
    status = await poll(run);
    if (status === undefined) return;
  }
  ctx.output({ final_state: status.state });
  if (!status.succeeded) {
    const id = run.watcher.ids.applicationId ?? run.watcher.ids.submissionId;
    throw new sdk.TaskError(
      `spark application ${id ?? "(id not seen)"} ended ${status.state}`,
    );
  }
}

/** Polls the status command; undefined when there is none to poll. */
async function poll(
  run: SparkRun,
): Promise<SparkApplicationStatus | undefined> {
  const { ctx, sdk, options, submission } = run;
  const command = run.statusCommand();
  if (command === undefined) {
    ctx.log.warn("spark application end not tracked: no status command", {
      master: submission.master,
      ...idFields(run.watcher.ids),
    });
    return undefined;
  }
  const statusTimeoutMs = options.statusTimeoutMs ?? DEFAULTS.statusTimeoutMs;
  try {
    const status = await trackApplication({
      command,
      run: (line) =>
        runCommand(line, {
          cwd: ctx.workDir,
          env: commandEnvironment(run.env),
          signal: AbortSignal.any([
            ctx.signal,
            AbortSignal.timeout(statusTimeoutMs),
          ]),
          killGraceMs: run.killGraceMs,
        }),
      intervalMs: options.statusIntervalMs ?? DEFAULTS.statusIntervalMs,
      maxFailures: options.maxStatusFailures ?? DEFAULTS.maxStatusFailures,
      sleep: options.sleep ?? abortableSleep,
      signal: ctx.signal,
      log: ctx.log,
    });
    if (status === undefined) {
      await run.remoteKill.settled();
      throw abortError(sdk, ctx.signal, "spark application");
    }
    return status;
  } catch (error) {
    if (!(error instanceof StatusUnknownError)) throw error;
    throw new sdk.TaskError(error.message, { cause: error });
  }
}

function idFields(ids: SparkIds): JsonObject {
  const fields: JsonObject = {};
  if (ids.applicationId) fields.application_id = ids.applicationId;
  if (ids.submissionId) fields.submission_id = ids.submissionId;
  return fields;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
