import { pino } from "pino";
import { systemClock } from "../core/index.js";
import packageJson from "../package.json" with { type: "json" };
import type { PluginFactory } from "../plugin-sdk/index.js";
import { Agent } from "./agent.js";
import { loadAgentId } from "./agent-id.js";
import { type AgentOptions, resolveAgentOptions } from "./agent-options.js";
import { detectLabels } from "./detect-labels.js";
import { stopLeftoverProcesses } from "./leftover-processes.js";
import { loadPlugins } from "./plugin-registry.js";
import { renderTaskConfig } from "./render-task-config.js";

/** A started agent. */
export interface RunningAgent {
  /** Stable across restarts (kept in the state directory). */
  readonly id: string;
  /** Resolves once the first Welcome arrives. */
  readonly ready: Promise<void>;
  /** Resolves once the agent has stopped, by drain() or close() or a Drain. */
  readonly closed: Promise<void>;
  /**
   * Stops taking work, lets running attempts finish within the grace
   * period (default 30 s), kills the rest (each plugin stops its whole
   * process tree; their results say LOST, retryable), waits (bounded) for
   * the results to be acknowledged, and closes. What SIGTERM calls.
   */
  drain(gracePeriodMs?: number): Promise<void>;
  /** Kills running attempts and ends the session now. */
  close(): Promise<void>;
}

/**
 * Starts an agent: loads its id, plugins and host facts, then keeps a
 * session to the control plane open until drained or closed.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const resolved = resolveAgentOptions(options);
  const id = await loadAgentId(resolved.stateDir);
  const logger = (options.logger ?? pino({ name: "deerflow-agent" })).child({
    agent_id: id,
  });
  const plugins = loadPlugins(
    options.plugins ?? (await builtinPlugins()),
    logger,
  );
  const facts = await detectLabels({
    plugins: [...plugins.values()],
    gpuProbe: options.gpuProbe,
    logger,
  });
  checkDeclaredLabels(resolved.labels, facts.labels);
  await stopLeftoverProcesses(id, logger);
  const agent = new Agent({
    id,
    version: packageJson.version,
    options: resolved,
    plugins,
    facts,
    clock: options.clock ?? systemClock,
    logger,
    renderConfig: renderTaskConfig,
  });
  agent.start();
  return {
    id,
    ready: agent.ready,
    closed: agent.closed,
    drain: (gracePeriodMs) => agent.drain(gracePeriodMs),
    close: () => agent.close(),
  };
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
 * The built-in plugins, loaded only when the options name none: an agent
 * embedded with its own plugins (tests, the dev command) skips loading
 * code it will not run.
 */
async function builtinPlugins(): Promise<readonly PluginFactory[]> {
  const { builtinPluginFactories } = await import("../plugins/index.js");
  return builtinPluginFactories;
}
