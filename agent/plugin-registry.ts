import type { Logger } from "pino";
import {
  type Plugin,
  type PluginFactory,
  pluginSdk,
} from "../plugin-sdk/index.js";

/**
 * Calls each plugin factory with the agent's SDK and indexes the plugins
 * by task type. A factory that throws is reported and its types are not
 * advertised (SPEC §6); two plugins claiming one type is a configuration
 * error the agent refuses to start with.
 */
export function loadPlugins(
  factories: readonly PluginFactory[],
  logger: Logger,
): Map<string, Plugin> {
  const plugins = new Map<string, Plugin>();
  factories.forEach((factory, index) => {
    let loaded: Plugin[];
    try {
      const made = factory(pluginSdk);
      loaded = (Array.isArray(made) ? made : [made]) as Plugin[];
    } catch (error) {
      logger.error(
        { err: error, plugin_index: index },
        "plugin failed to load",
      );
      return;
    }
    for (const plugin of loaded) {
      if (plugins.has(plugin.type)) {
        throw new Error(
          `plugins[${index}]: task type "${plugin.type}" is provided twice`,
        );
      }
      plugins.set(plugin.type, plugin);
      logger.debug(
        { task_type: plugin.type, plugin_version: plugin.version },
        "plugin loaded",
      );
    }
  });
  return plugins;
}
