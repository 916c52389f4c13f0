import type { Logger } from "pino";
import {
  definePlugin,
  type Plugin,
  type PluginFactory,
  pluginSdk,
} from "../plugin-sdk/index.js";
import { compileConfigSchema } from "../workflow/index.js";
import type { PluginSource } from "./plugin-sources.js";

/** A plugin factory and where it came from ("builtin:shell", a path...). */
export interface PluginEntry {
  origin: string;
  factory: PluginFactory;
}

/** A plugin that could not be loaded, and why. */
export interface PluginProblem {
  origin: string;
  reason: string;
}

/** A loaded plugin and where it came from. */
export interface LoadedPlugin {
  origin: string;
  plugin: Plugin;
}

/** Two plugins claim one task type: the agent refuses to start. */
export class DuplicateTaskTypeError extends Error {
  override readonly name = "DuplicateTaskTypeError";
}

/**
 * Imports each plugin module and takes its default export, which must be
 * a factory `(sdk) => plugin | plugin[]` (SPEC §6). A module that fails to
 * import or exports something else is a problem, reported with its
 * origin; the others still load.
 */
export async function importPluginModules(
  sources: readonly PluginSource[],
): Promise<{ entries: PluginEntry[]; problems: PluginProblem[] }> {
  const entries: PluginEntry[] = [];
  const problems: PluginProblem[] = [];
  for (const { origin, url } of sources) {
    let module: { default?: unknown };
    try {
      module = (await import(url)) as { default?: unknown };
    } catch (error) {
      problems.push({
        origin,
        reason: `import failed: ${reasonOf(error)}${moduleHint(origin, error)}`,
      });
      continue;
    }
    // A CommonJS module's `module.exports = fn` arrives as default; one
    // compiled from ESM with `exports.default = fn` arrives one level down.
    let factory = module.default;
    if (typeof factory === "object" && factory !== null) {
      factory = (factory as { default?: unknown }).default;
    }
    if (typeof factory !== "function") {
      problems.push({
        origin,
        reason:
          "the default export must be a function (sdk) => sdk.definePlugin({...})",
      });
      continue;
    }
    entries.push({ origin, factory: factory as PluginFactory });
  }
  return { entries, problems };
}

/**
 * Calls each factory with the agent's SDK and indexes the plugins by task
 * type. A factory that throws, or returns a plugin whose definition or
 * config schema is invalid, is a problem: reported, its types not
 * advertised (SPEC §6). Two plugins claiming one type throw
 * {@link DuplicateTaskTypeError} naming both origins.
 */
export function loadPlugins(entries: readonly PluginEntry[]): {
  plugins: Map<string, LoadedPlugin>;
  problems: PluginProblem[];
} {
  const plugins = new Map<string, LoadedPlugin>();
  const problems: PluginProblem[] = [];
  for (const { origin, factory } of entries) {
    let made: Plugin[];
    try {
      made = checkedPlugins(factory(pluginSdk));
    } catch (error) {
      problems.push({ origin, reason: reasonOf(error) });
      continue;
    }
    for (const plugin of made) {
      const other = plugins.get(plugin.type);
      if (other !== undefined) {
        throw new DuplicateTaskTypeError(
          `task type "${plugin.type}" is provided by both ${other.origin} and ${origin}`,
        );
      }
      plugins.set(plugin.type, { origin, plugin });
    }
  }
  return { plugins, problems };
}

/** Logs what loaded at debug and every problem at error. */
export function reportPlugins(
  loaded: { plugins: Map<string, LoadedPlugin>; problems: PluginProblem[] },
  logger: Logger,
): void {
  for (const { origin, plugin } of loaded.plugins.values()) {
    logger.debug(
      {
        task_type: plugin.type,
        plugin_version: plugin.version,
        plugin: origin,
      },
      "plugin loaded",
    );
  }
  for (const problem of loaded.problems) {
    logger.error(
      { plugin: problem.origin, reason: problem.reason },
      "plugin not loaded; its task types are not advertised",
    );
  }
}

/**
 * What a factory returned, each checked as `definePlugin` checks (a plugin
 * may have been made by its own copy of the SDK) and with a config schema
 * that compiles.
 */
function checkedPlugins(made: unknown): Plugin[] {
  const list = Array.isArray(made) ? made : [made];
  if (list.length === 0) throw new Error("the factory returned no plugin");
  return list.map((candidate, i) => {
    const where = Array.isArray(made) ? `plugin [${i}]: ` : "";
    if (candidate === null || typeof candidate !== "object") {
      throw new Error(`${where}the factory must return a plugin object`);
    }
    let plugin: Plugin;
    try {
      plugin = definePlugin(candidate as Plugin);
    } catch (error) {
      throw new Error(`${where}${reasonOf(error)}`);
    }
    try {
      compileConfigSchema(plugin.configSchema);
    } catch (error) {
      throw new Error(
        `${where}plugin "${plugin.type}": configSchema is not a valid JSON Schema: ${reasonOf(error)}`,
      );
    }
    return plugin;
  });
}

/**
 * A `.js` file with `export` syntax and no `"type": "module"` beside it is
 * read as CommonJS, and fails with a message that does not say so.
 */
function moduleHint(origin: string, error: unknown): string {
  const message = reasonOf(error);
  const esmAsCommonJs =
    /require\(\) ES Module|Cannot use import statement|Unexpected token 'export'|ERR_REQUIRE_ESM/.test(
      message,
    );
  if (!esmAsCommonJs || !origin.endsWith(".js")) return "";
  return ' (an ES module plugin file needs the .mjs extension, or a package.json with "type": "module" beside it)';
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
