import os from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import {
  type Clock,
  LABEL_KEY,
  LABEL_KEY_RULE,
  MAX_AGENT_SLOTS,
} from "../core/index.js";
import type { PluginFactory } from "../plugin-sdk/index.js";
import type { GpuProbe } from "./gpu-probe.js";
import type { ReconnectPolicy } from "./reconnect-delay.js";

/** How to start an agent. Each option is also a CLI flag of `agent`. */
export interface AgentOptions {
  /** The control plane, for example "http://127.0.0.1:7070". */
  serverUrl: string;
  /** Default: the host name. */
  name?: string;
  /** Labels the operator declares (`--label k=v`). */
  labels?: Record<string, string>;
  /** Most attempts run at once. Default: the number of CPUs. */
  slots?: number;
  /** Keeps the agent id across restarts. Default ~/.deerflow/agent. */
  stateDir?: string;
  /** Parent of the attempts' work directories. Default: os.tmpdir(). */
  workRoot?: string;
  /**
   * The plugins an embedding program hands in. Default: the built-in
   * plugins, plus those of `pluginDirs` and `pluginModules`.
   */
  plugins?: readonly PluginFactory[];
  /** Folders whose every module or package is a plugin (`--plugins`). */
  pluginDirs?: readonly string[];
  /** Plugin files, folders or package names (`--plugin`). */
  pluginModules?: readonly string[];
  /**
   * Task types this agent leaves out (`--without`): their plugins are
   * neither probed (the docker plugin asks the local engine) nor offered.
   * Each must be a type some loaded plugin provides.
   */
  withoutTypes?: readonly string[];
  /** Backoff between stream attempts. Default 250 ms up to 10 s. */
  reconnect?: Partial<ReconnectPolicy>;
  /** Default: pino to stdout at info. */
  logger?: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: nvidia-smi when it is on PATH. */
  gpuProbe?: GpuProbe;
}

/** The options with every default applied, checked. */
export interface ResolvedAgentOptions {
  serverUrl: string;
  name: string;
  labels: Record<string, string>;
  slots: number;
  stateDir: string;
  workRoot: string;
  reconnect: ReconnectPolicy;
}

/** Applies the defaults and checks each option, naming it on failure. */
export function resolveAgentOptions(
  options: AgentOptions,
): ResolvedAgentOptions {
  const resolved: ResolvedAgentOptions = {
    serverUrl: options.serverUrl,
    name: options.name ?? os.hostname(),
    labels: { ...options.labels },
    slots: options.slots ?? os.availableParallelism(),
    // Absolute: attempts run in their own work dirs, where a relative
    // path (DEERFLOW_OUTPUT's) would point somewhere else.
    stateDir: resolve(
      options.stateDir ?? join(os.homedir(), ".deerflow", "agent"),
    ),
    workRoot: resolve(options.workRoot ?? os.tmpdir()),
    reconnect: {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
    },
  };
  checkServerUrl(resolved.serverUrl);
  if (resolved.name.trim() === "") throw new Error("name: must not be empty");
  if (
    !Number.isInteger(resolved.slots) ||
    resolved.slots < 1 ||
    resolved.slots > MAX_AGENT_SLOTS
  ) {
    throw new Error(
      `slots: must be an integer from 1 to ${MAX_AGENT_SLOTS}, got ${resolved.slots}`,
    );
  }
  for (const [key, value] of Object.entries(resolved.labels)) {
    if (!LABEL_KEY.test(key)) {
      throw new Error(`labels.${key}: the key ${LABEL_KEY_RULE}`);
    }
    if (typeof value !== "string") {
      throw new Error(`labels.${key}: must be a string`);
    }
  }
  checkReconnect(resolved.reconnect);
  return resolved;
}

function checkServerUrl(serverUrl: string): void {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new Error(`serverUrl: "${serverUrl}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`serverUrl: must be http:// or https://, got ${serverUrl}`);
  }
}

function checkReconnect(policy: ReconnectPolicy): void {
  const { initialDelayMs, maxDelayMs } = policy;
  if (!Number.isFinite(initialDelayMs) || initialDelayMs < 1) {
    throw new Error(`reconnect.initialDelayMs: must be >= 1`);
  }
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < initialDelayMs) {
    throw new Error(`reconnect.maxDelayMs: must be >= initialDelayMs`);
  }
}
