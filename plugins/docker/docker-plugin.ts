import type Docker from "dockerode";
import type {
  ExecuteResult,
  JsonObject,
  PluginSdk,
  TaskContext,
} from "../../plugin-sdk/index.js";
import { abortError, resolveKillGraceMs } from "../process/index.js";
import { ConfigFieldError } from "./config-field-error.js";
import { containerSpec } from "./container-spec.js";
import { type DockerConfig, dockerConfigSchema } from "./docker-config.js";
import {
  chooseDockerHost,
  DockerHostError,
  dockerOptions,
} from "./docker-host.js";
import { engineMessage, isUnreachable } from "./engine-error.js";
import { probeDocker } from "./probe-docker.js";
import {
  ensureImage,
  ImageMissingError,
  ImagePullError,
} from "./pull-image.js";
import {
  ContainerCreateError,
  type ContainerExit,
  ContainerStartError,
  runContainer,
} from "./run-container.js";

/** Options of the docker plugin, fixed when the agent loads it. */
export interface DockerPluginOptions {
  /**
   * The engine for tasks that set no `docker_host`, and for the probe.
   * Default: `DOCKER_HOST` from the agent's environment, else
   * unix:///var/run/docker.sock.
   */
  dockerHost?: string;
  /**
   * Time between SIGTERM and SIGKILL when a container is stopped.
   * Default: `DEERFLOW_KILL_GRACE_MS` from the agent's environment, else
   * 5000.
   */
  killGraceMs?: number;
}

/** Makes a docker plugin factory with the given options. */
export function createDockerPlugin(options: DockerPluginOptions = {}) {
  return (sdk: PluginSdk) =>
    sdk.definePlugin<DockerConfig>({
      type: "docker",
      version: "1.0.0",
      description: "Runs a container on a Docker engine.",
      configSchema: dockerConfigSchema,
      probe: () =>
        probeDocker(sdk, chooseDockerHost(undefined, options.dockerHost)),
      execute: (ctx) => executeDocker(sdk, options, ctx),
    });
}

/** The built-in `docker` task type. */
export const dockerPlugin = createDockerPlugin();
export default dockerPlugin;

async function executeDocker(
  sdk: PluginSdk,
  options: DockerPluginOptions,
  ctx: TaskContext<DockerConfig>,
): Promise<ExecuteResult> {
  const { config } = ctx;
  const host = chooseDockerHost(config.docker_host, options.dockerHost);
  const docker = await connect(sdk, host, config.docker_host !== undefined);
  const spec = buildSpec(sdk, ctx);
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "container");
  await prepareImage(sdk, docker, host, ctx);
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "container");
  let exit: ContainerExit;
  try {
    exit = await runContainer(docker, {
      spec,
      signal: ctx.signal,
      killGraceMs: resolveKillGraceMs(options.killGraceMs),
      remove: config.remove !== false,
      onStdout: (line) => ctx.streams.stdout(line),
      onStderr: (line) => ctx.streams.stderr(line),
      onCreated: (id) => ctx.output({ container_id: id }),
      log: ctx.log,
    });
  } catch (error) {
    throw runError(sdk, host, config.image, error);
  }
  return finish(sdk, ctx, exit);
}

/**
 * A client of the engine. A bad `docker_host` is the task's fault and
 * final; a bad agent-wide address (option or DOCKER_HOST) is this
 * agent's, and another agent may run the task.
 */
async function connect(
  sdk: PluginSdk,
  host: string,
  fromConfig: boolean,
): Promise<Docker> {
  // dockerode loads on first use: agents that never run a container (and
  // every other command) do not pay for it at start.
  const { default: DockerClient } = await import("dockerode");
  try {
    return new DockerClient(dockerOptions(host));
  } catch (error) {
    if (!(error instanceof DockerHostError)) throw error;
    if (fromConfig) {
      throw new sdk.NonRetryableError(`config.docker_host: ${error.message}`, {
        cause: error,
      });
    }
    throw new sdk.TaskError(
      `this agent's Docker engine address (DOCKER_HOST or the plugin's ` +
        `dockerHost option): ${error.message}`,
      { cause: error },
    );
  }
}

function buildSpec(sdk: PluginSdk, ctx: TaskContext<DockerConfig>) {
  try {
    return containerSpec(ctx.config, ctx);
  } catch (error) {
    if (!(error instanceof ConfigFieldError)) throw error;
    throw new sdk.NonRetryableError(error.message, { cause: error });
  }
}

async function prepareImage(
  sdk: PluginSdk,
  docker: Docker,
  host: string,
  ctx: TaskContext<DockerConfig>,
): Promise<void> {
  const { image, pull_policy: policy = "IfNotPresent" } = ctx.config;
  const started = performance.now();
  try {
    const pulled = await ensureImage(docker, image, {
      policy,
      signal: ctx.signal,
      log: ctx.log,
    });
    if (pulled) {
      ctx.metrics.timer("docker_pull_duration_ms", performance.now() - started);
    }
  } catch (error) {
    if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "image pull");
    if (error instanceof ImageMissingError) {
      throw new sdk.NonRetryableError(`config.image: ${error.message}`, {
        cause: error,
      });
    }
    if (error instanceof ImagePullError) {
      const message = `config.image: ${error.message}`;
      throw error.permanent
        ? new sdk.NonRetryableError(message, { cause: error })
        : new sdk.TaskError(message, { cause: error });
    }
    throw engineError(sdk, host, error);
  }
}

/** Output and outcome of a container that ran (or was stopped). */
function finish(
  sdk: PluginSdk,
  ctx: TaskContext<DockerConfig>,
  exit: ContainerExit,
): ExecuteResult {
  const output: JsonObject = {
    container_id: exit.containerId,
    exit_code: exit.exitCode ?? null,
    oom_killed: exit.oomKilled,
  };
  if (ctx.config.capture_output !== false) {
    output.stdout = exit.stdoutTail;
    output.stderr = exit.stderrTail;
  }
  ctx.output(output);
  if (exit.aborted) {
    throw abortError(sdk, ctx.signal, "container", exit.exitCode);
  }
  const exitCode = exit.exitCode ?? -1;
  if (exit.oomKilled && exitCode !== 0) {
    throw new sdk.TaskError(
      `container was killed for exceeding its memory limit (exit code ${exitCode})`,
      { exitCode, retryClass: "error" },
    );
  }
  if (exit.oomKilled) {
    ctx.log.warn("a process in the container was killed for memory", {
      container_id: exit.containerId,
    });
  }
  if (exitCode !== 0) {
    throw new sdk.TaskError(`container exited with code ${exitCode}`, {
      exitCode,
      retryClass: "error",
    });
  }
  return { exitCode: 0 };
}

/** Why the engine would not create or start the container. */
function runError(
  sdk: PluginSdk,
  host: string,
  image: string,
  error: unknown,
): Error {
  if (error instanceof ContainerCreateError) {
    // 400: the engine refused the request itself (a bad mount, a limit
    // under its minimum); no other attempt can fix that.
    const message = `${error.message} (image ${JSON.stringify(image)})`;
    return error.status === 400
      ? new sdk.NonRetryableError(message, { cause: error })
      : new sdk.TaskError(message, { cause: error });
  }
  if (error instanceof ContainerStartError) {
    // A missing executable is the task's fault; anything else (a device
    // this engine lacks, a busy daemon) may work on another attempt.
    const permanent =
      error.status === 400 || MISSING_EXECUTABLE.test(error.message);
    return permanent
      ? new sdk.NonRetryableError(error.message, { cause: error })
      : new sdk.TaskError(error.message, { cause: error });
  }
  return engineError(sdk, host, error);
}

const MISSING_EXECUTABLE =
  /executable file not found|no such file or directory|permission denied/i;

/** An engine that did not answer, or an unexpected engine failure. */
function engineError(sdk: PluginSdk, host: string, error: unknown): Error {
  const reason = engineMessage(error);
  const message = isUnreachable(error)
    ? `cannot reach the Docker engine at ${host}: ${reason}`
    : `the Docker engine at ${host} failed: ${reason}`;
  return new sdk.TaskError(message, { cause: error });
}
