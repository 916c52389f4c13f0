import type { Plugin, PluginDefinition } from "./plugin.js";
import { PluginUnavailableError } from "./plugin-unavailable.js";
import { NonRetryableError, TaskError } from "./task-error.js";

/**
 * What a plugin module's default export receives. The agent hands its own
 * copy in, so a plugin with its own node_modules never loads a second SDK
 * and `instanceof TaskError` holds across the boundary.
 */
export interface PluginSdk {
  readonly version: string;
  definePlugin<Config>(definition: PluginDefinition<Config>): Plugin<Config>;
  readonly TaskError: typeof TaskError;
  readonly NonRetryableError: typeof NonRetryableError;
  readonly PluginUnavailableError: typeof PluginUnavailableError;
}

/** The shape of a plugin module's default export. */
export type PluginFactory = (sdk: PluginSdk) => Plugin<never> | Plugin[];

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** Checks a definition's shape and freezes it. */
export function definePlugin<Config>(
  definition: PluginDefinition<Config>,
): Plugin<Config> {
  if (!TYPE_PATTERN.test(definition.type ?? "")) {
    throw new TypeError(
      `plugin type "${String(definition.type)}" must match ${TYPE_PATTERN}`,
    );
  }
  if (typeof definition.version !== "string" || definition.version === "") {
    throw new TypeError(`plugin "${definition.type}": version is required`);
  }
  if (typeof definition.configSchema !== "object") {
    throw new TypeError(
      `plugin "${definition.type}": configSchema is required`,
    );
  }
  if (typeof definition.execute !== "function") {
    throw new TypeError(`plugin "${definition.type}": execute is required`);
  }
  return Object.freeze({ ...definition });
}

/** The SDK instance the agent passes to plugin factories. */
export const pluginSdk: PluginSdk = Object.freeze({
  version: "1",
  definePlugin,
  TaskError,
  NonRetryableError,
  PluginUnavailableError,
});
