import type {
  ContainerCreateOptions,
  DeviceRequest,
  HostConfig,
} from "dockerode";
import type { TaskContext } from "../../plugin-sdk/index.js";
import { ConfigFieldError } from "./config-field-error.js";
import type { DockerConfig, GpuRequest } from "./docker-config.js";
import { parseCpuNanos, parseMemoryBytes } from "./parse-quantity.js";
import { volumeMounts } from "./volume-mounts.js";

/** The labels every container of an attempt carries, to find leftovers. */
export const CONTAINER_LABELS = {
  runId: "deerflow.run_id",
  taskId: "deerflow.task_id",
  attempt: "deerflow.attempt",
} as const;

/** What a container spec is built from besides the config. */
export type SpecContext = Pick<
  TaskContext,
  "runId" | "taskId" | "attempt" | "workDir" | "env" | "resources"
>;

/**
 * The create request of an attempt's container: never a TTY, so stdout
 * and stderr arrive multiplexed and stay apart; never auto-removed, so
 * the plugin can read the exit state (OOM) before it removes it.
 * Throws {@link ConfigFieldError} for values the schema cannot rule out.
 */
export function containerSpec(
  config: DockerConfig,
  ctx: SpecContext,
): ContainerCreateOptions {
  return {
    Image: config.image,
    ...commandOf(config),
    ...(config.working_dir ? { WorkingDir: config.working_dir } : {}),
    ...(config.user ? { User: config.user } : {}),
    Env: environmentOf(config, ctx),
    Labels: {
      [CONTAINER_LABELS.runId]: ctx.runId,
      [CONTAINER_LABELS.taskId]: ctx.taskId,
      [CONTAINER_LABELS.attempt]: String(ctx.attempt),
    },
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: hostConfigOf(config, ctx),
  };
}

function commandOf(
  config: DockerConfig,
): Pick<ContainerCreateOptions, "Cmd" | "Entrypoint"> {
  const { command, entrypoint } = config;
  const spec: Pick<ContainerCreateOptions, "Cmd" | "Entrypoint"> = {};
  if (entrypoint !== undefined) {
    spec.Entrypoint =
      typeof entrypoint === "string" ? [entrypoint] : entrypoint;
  }
  if (typeof command === "string") {
    if (entrypoint !== undefined) {
      throw new ConfigFieldError(
        "config.command",
        "a string command runs with /bin/sh -c, which replaces the " +
          "entrypoint; give the command as a list to pass it to entrypoint",
      );
    }
    spec.Entrypoint = ["/bin/sh", "-c"];
    spec.Cmd = [command];
  } else if (command !== undefined) {
    spec.Cmd = command;
  }
  return spec;
}

/**
 * Only the attempt's facts, the task's env and the config's variables:
 * the agent's own environment stays out of the container.
 */
function environmentOf(config: DockerConfig, ctx: SpecContext): string[] {
  const env: Record<string, string> = {
    DEERFLOW_RUN_ID: ctx.runId,
    DEERFLOW_TASK_ID: ctx.taskId,
    DEERFLOW_ATTEMPT: String(ctx.attempt),
    ...ctx.env,
    ...config.environment,
    ...config.env,
  };
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

function hostConfigOf(config: DockerConfig, ctx: SpecContext): HostConfig {
  const host: HostConfig = { AutoRemove: false };
  const limits = config.resources ?? {};
  if (limits.cpu !== undefined) {
    host.NanoCpus = parseCpuNanos(limits.cpu, "config.resources.cpu");
  } else if (ctx.resources.cpuMillis > 0) {
    host.NanoCpus = ctx.resources.cpuMillis * 1_000_000;
  }
  const memory =
    limits.memory !== undefined
      ? parseMemoryBytes(limits.memory, "config.resources.memory")
      : ctx.resources.memoryBytes;
  if (memory > 0) {
    host.Memory = memory;
    // Equal to Memory: no swap on top, so the limit is the limit.
    host.MemorySwap = memory;
  }
  const devices = deviceRequests(limits.gpu, ctx.resources.gpuIndexes);
  if (devices !== undefined) host.DeviceRequests = devices;
  if (config.volumes !== undefined && config.volumes.length > 0) {
    host.Mounts = volumeMounts(config.volumes, ctx.workDir);
  }
  if (config.network !== undefined) host.NetworkMode = config.network;
  return host;
}

/**
 * GPUs the agent allocated are requested by index, the way SPEC §5 hands
 * them over; otherwise a count from the config. Docker cannot select a
 * GPU model, so `type` is left to matching (put it in the task's
 * `resources` so the dispatcher picks an agent that has it).
 */
export function deviceRequests(
  gpu: GpuRequest | undefined,
  allocated: readonly number[],
): DeviceRequest[] | undefined {
  if (allocated.length > 0) {
    return [
      {
        Driver: "",
        DeviceIDs: allocated.map(String),
        Capabilities: [["gpu"]],
      },
    ];
  }
  if (gpu === undefined) return undefined;
  const count = typeof gpu === "object" ? (gpu.count ?? 1) : Number(gpu);
  if (!Number.isInteger(count) || count < 1) {
    throw new ConfigFieldError(
      "config.resources.gpu",
      `${JSON.stringify(gpu)} is not a GPU count >= 1`,
    );
  }
  return [{ Driver: "", Count: count, Capabilities: [["gpu"]] }];
}
