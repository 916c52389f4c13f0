import { statfs } from "node:fs/promises";
import os from "node:os";
import type { Logger } from "pino";
import { type Plugin, PluginUnavailableError } from "../plugin-sdk/index.js";
import { type Gpu, type GpuProbe, nvidiaSmiGpuProbe } from "./gpu-probe.js";

/** What the agent has to give to attempts. */
export interface HostResources {
  cpuMillis: number;
  memoryBytes: number;
  gpus: Gpu[];
  /** Free space where attempts get their work directories; 0 if unknown. */
  storageBytes: number;
  /** The declared label `storage_type` ("ssd"), or "". */
  storageType: string;
}

/** The facts the agent probed on its host. */
export interface HostFacts {
  /**
   * `os`, `arch`, `hostname`, `cpu_count`, `memory_bytes`, `gpu_count`,
   * and with GPUs `gpu_type` and `gpu_memory_bytes`, plus each plugin's
   * probe labels (which may not override these).
   */
  labels: Record<string, string>;
  resources: HostResources;
  /**
   * Task types whose probe threw PluginUnavailableError, with the reason:
   * the agent does not advertise them.
   */
  unavailable: Map<string, string>;
}

export interface DetectLabelsOptions {
  /** Plugins whose `probe()` adds labels. */
  plugins?: readonly Plugin[];
  /** Default: nvidia-smi when it is on PATH. */
  gpuProbe?: GpuProbe;
  /** Where failed probes are reported. */
  logger?: Logger;
  /** Where attempts' work directories go: its free space is `storage`. */
  workRoot?: string;
  /** The operator's labels: `storage_type` names the storage's class. */
  declared?: Readonly<Record<string, string>>;
}

const PROBE_TIMEOUT_MS = 15_000;

/** Node's arch names, in the spelling Kubernetes and Docker use. */
const ARCH_NAMES: Record<string, string> = { x64: "amd64", ia32: "386" };

/**
 * Probes the host: OS, architecture, CPUs, memory and GPUs, and asks each
 * plugin for its labels. A probe that fails is logged and contributes
 * nothing; the agent still starts.
 */
export async function detectLabels(
  options: DetectLabelsOptions = {},
): Promise<HostFacts> {
  const gpus = await probeGpus(options.gpuProbe ?? nvidiaSmiGpuProbe, options);
  const cpuCount = os.availableParallelism();
  const memoryBytes = os.totalmem();
  const host: Record<string, string> = {
    os: process.platform,
    arch: ARCH_NAMES[process.arch] ?? process.arch,
    hostname: os.hostname(),
    cpu_count: String(cpuCount),
    memory_bytes: String(memoryBytes),
    ...gpuLabels(gpus),
  };
  const probed = await probePlugins(options.plugins ?? [], options);
  return {
    labels: { ...probed.labels, ...host },
    resources: {
      cpuMillis: cpuCount * 1000,
      memoryBytes,
      gpus,
      storageBytes: await freeSpace(options.workRoot, options.logger),
      storageType: options.declared?.storage_type ?? "",
    },
    unavailable: probed.unavailable,
  };
}

/**
 * `gpu_count` always; `gpu_type` (distinct types joined by ",") and
 * `gpu_memory_bytes` (of the smallest GPU, what any one task can count on)
 * when there are GPUs.
 */
export function gpuLabels(gpus: readonly Gpu[]): Record<string, string> {
  const labels: Record<string, string> = { gpu_count: String(gpus.length) };
  if (gpus.length === 0) return labels;
  labels.gpu_type = [...new Set(gpus.map((gpu) => gpu.type))].sort().join(",");
  labels.gpu_memory_bytes = String(
    Math.min(...gpus.map((gpu) => gpu.memoryBytes)),
  );
  return labels;
}

/** Bytes free to an unprivileged writer under `dir`; 0 when unknown. */
async function freeSpace(
  dir: string | undefined,
  logger: Logger | undefined,
): Promise<number> {
  if (dir === undefined) return 0;
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch (error) {
    logger?.warn({ err: error, work_root: dir }, "free space unknown");
    return 0;
  }
}

async function probeGpus(
  probe: GpuProbe,
  options: DetectLabelsOptions,
): Promise<Gpu[]> {
  try {
    return await withTimeout(probe(), "gpu probe");
  } catch (error) {
    options.logger?.warn({ err: error }, "gpu probe failed");
    return [];
  }
}

async function probePlugins(
  plugins: readonly Plugin[],
  options: DetectLabelsOptions,
): Promise<{
  labels: Record<string, string>;
  unavailable: Map<string, string>;
}> {
  const labels: Record<string, string> = {};
  const unavailable = new Map<string, string>();
  const results = await Promise.allSettled(
    plugins.map(async (plugin) =>
      plugin.probe === undefined
        ? {}
        : await withTimeout(
            Promise.resolve(plugin.probe()),
            `plugin ${plugin.type} probe`,
          ),
    ),
  );
  results.forEach((result, i) => {
    const type = plugins[i]?.type;
    if (
      result.status === "rejected" &&
      result.reason instanceof PluginUnavailableError &&
      type !== undefined
    ) {
      unavailable.set(type, result.reason.message);
      options.logger?.info(
        { task_type: type, reason: result.reason.message },
        "task type unavailable on this host; not advertised",
      );
      return;
    }
    if (result.status === "rejected") {
      options.logger?.warn(
        { err: result.reason, task_type: type },
        "plugin probe failed",
      );
      return;
    }
    for (const [key, value] of Object.entries(result.value ?? {})) {
      if (typeof value === "string") labels[key] = value;
    }
  });
  return { labels, unavailable };
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took over ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
