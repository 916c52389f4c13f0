import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { pino } from "pino";
import { type DirLock, makeDir, systemClock } from "../core/index.js";
import packageJson from "../package.json" with { type: "json" };
import type { Plugin } from "../plugin-sdk/index.js";
import { Agent } from "./agent.js";
import { loadAgentId } from "./agent-id.js";
import {
  type AgentOptions,
  type ResolvedAgentOptions,
  resolveAgentOptions,
} from "./agent-options.js";
import type { CloseOptions } from "./close-options.js";
import { detectLabels } from "./detect-labels.js";
import { stopLeftoverProcesses } from "./leftover-processes.js";
import {
  importPluginModules,
  loadPlugins,
  type PluginEntry,
  type PluginProblem,
  reportPlugins,
} from "./plugin-registry.js";
import {
  type PluginSource,
  PluginSourceError,
  pluginsInDirectory,
  resolvePluginSpecifier,
} from "./plugin-sources.js";
import { renderTaskConfig } from "./render-task-config.js";
import { lockStateDir } from "./state-dir-lock.js";

/** A started agent. */
export interface RunningAgent {
  /** Stable across restarts (kept in the state directory). */
  readonly id: string;
  /** Resolves once the first Welcome arrives. */
  readonly ready: Promise<void>;
  /**
   * Resolves once the agent has stopped, by drain() or close() or a
   * Drain; rejects with AgentSupersededError when it stopped because
   * another process connected as the same agent id. Either way the state
   * dir is free again.
   */
  readonly closed: Promise<void>;
  /**
   * Stops taking work, lets running attempts finish within the grace
   * period (default 30 s), kills the rest (each plugin stops its whole
   * process tree; their results say LOST, retryable), waits (bounded) for
   * the results to be acknowledged, and closes. What SIGTERM calls.
   */
  drain(gracePeriodMs?: number): Promise<void>;
  /**
   * Kills running attempts and ends the session now. With
   * `resultWaitMs`, first waits up to that long for the control plane to
   * acknowledge the results of what it killed (what a second SIGTERM
   * does): delivered, they spare their tasks a wait for lease expiry.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Starts an agent: loads its id, plugins and host facts, then keeps a
 * session to the control plane open until drained or closed.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const resolved = resolveAgentOptions(options);
  // Attempts' work directories go here: make it now, or say why not.
  await makeDir(resolved.workRoot).catch((error: unknown) => {
    throw new Error(
      `--work-dir ${resolved.workRoot}: cannot create it: ${(error as Error).message}`,
    );
  });
  // Before the id is read: a second agent on the state dir must not even
  // stop the first one's attempts as leftovers (stopLeftoverProcesses).
  const processToken = randomUUID();
  const lock = await lockStateDir(resolved.stateDir, processToken);
  try {
    return await startLocked(options, resolved, lock, processToken);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** The rest of startAgent, once the state dir is this process's. */
async function startLocked(
  options: AgentOptions,
  resolved: ResolvedAgentOptions,
  lock: DirLock,
  processToken: string,
): Promise<RunningAgent> {
  const id = await loadAgentId(resolved.stateDir);
  const logger = (options.logger ?? pino({ name: "deerflow-agent" })).child({
    agent_id: id,
  });
  const loaded = loadPlugins(await pluginEntries(options, logger));
  leaveOut(loaded.plugins, options.withoutTypes ?? [], logger);
  reportPlugins(loaded, logger);
  const facts = await detectLabels({
    plugins: [...loaded.plugins.values()].map((entry) => entry.plugin),
    gpuProbe: options.gpuProbe,
    logger,
    workRoot: resolved.workRoot,
    declared: resolved.labels,
  });
  const plugins = new Map<string, Plugin>();
  for (const [type, { plugin }] of loaded.plugins) {
    if (!facts.unavailable.has(type)) plugins.set(type, plugin);
  }
  checkDeclaredLabels(resolved.labels, facts.labels);
  await stopLeftoverProcesses(id, logger);
  const agent = new Agent({
    id,
    version: packageJson.version,
    process: {
      token: processToken,
      predecessorToken: lock.tookOver?.token ?? "",
    },
    options: resolved,
    plugins,
    facts,
    clock: options.clock ?? systemClock,
    logger,
    renderConfig: renderTaskConfig,
  });
  agent.start();
  const closed = agent.closed.finally(() => lock.release());
  // A caller that never awaits closed must not see an unhandled rejection.
  closed.catch(() => {});
  return {
    id,
    ready: agent.ready,
    closed,
    drain: (gracePeriodMs) => agent.drain(gracePeriodMs),
    close: (options) => agent.close(options),
  };
}

/**
 * Drops the task types the operator left out, before any plugin probes
 * its host. A type no plugin provides is a mistake worth stopping for: a
 * misspelt `--without dokcer` would otherwise still reach the engine.
 */
function leaveOut(
  plugins: Map<string, unknown>,
  types: readonly string[],
  logger: Logger,
): void {
  for (const type of types) {
    if (!plugins.has(type)) {
      const known = [...plugins.keys()].sort().join(", ");
      throw new Error(
        `--without ${type}: no loaded plugin provides this task type (loaded: ${known})`,
      );
    }
  }
  for (const type of types) plugins.delete(type);
  if (types.length > 0) {
    logger.info({ task_types: [...new Set(types)] }, "task types left out");
  }
}

/** Declared labels may add facts, never contradict probed ones (SPEC §5). */
function checkDeclaredLabels(
  declared: Record<string, string>,
  detected: Record<string, string>,
): void {
  for (const [key, value] of Object.entries(declared)) {
    const fact = detected[key];
    if (fact !== undefined && fact !== value) {
      throw new Error(
        `labels.${key}: declared "${value}" but the host has "${fact}"`,
      );
    }
  }
}

/**
 * The plugins to load: the embedder's, or else the built-ins (imported
 * only then, so an agent embedded with its own plugins skips code it will
 * not run); then each module of `pluginDirs` and `pluginModules`.
 * A source that cannot be found or imported is reported and skipped.
 */
async function pluginEntries(
  options: AgentOptions,
  logger: Logger,
): Promise<PluginEntry[]> {
  let entries: PluginEntry[];
  if (options.plugins !== undefined) {
    entries = options.plugins.map((factory, i) => ({
      origin: `embedded plugin [${i}]`,
      factory,
    }));
  } else {
    const { builtinPluginFactories } = await import("../plugins/index.js");
    entries = builtinPluginFactories.map((factory) => ({
      origin: "built-in",
      factory,
    }));
  }
  const sources: PluginSource[] = [];
  const problems: PluginProblem[] = [];
  const note = (error: unknown, origin: string) => {
    if (!(error instanceof PluginSourceError)) throw error;
    problems.push({ origin: error.origin || origin, reason: error.message });
  };
  for (const dir of options.pluginDirs ?? []) {
    try {
      for (const found of await pluginsInDirectory(dir)) {
        if (found instanceof PluginSourceError) note(found, dir);
        else sources.push(found);
      }
    } catch (error) {
      note(error, dir);
    }
  }
  for (const specifier of options.pluginModules ?? []) {
    try {
      sources.push(await resolvePluginSpecifier(specifier));
    } catch (error) {
      note(error, specifier);
    }
  }
  const imported = await importPluginModules(sources);
  for (const problem of [...problems, ...imported.problems]) {
    logger.error(
      { plugin: problem.origin, reason: problem.reason },
      "plugin not loaded; its task types are not advertised",
    );
  }
  return [...entries, ...imported.entries];
}
