import { sql } from "drizzle-orm";
import type { ConfigSchema, Plugin } from "../../plugin-sdk/index.js";
import { pluginSdk } from "../../plugin-sdk/index.js";
import { builtinPluginFactories } from "../../plugins/index.js";
import type { TaskTypeCatalog } from "../../workflow/index.js";
import { agents, type Db } from "../db/index.js";

let builtins: Map<string, ConfigSchema> | undefined;

/** The config schemas of the built-in task types, which every agent has. */
export function builtinTaskTypes(): ReadonlyMap<string, ConfigSchema> {
  if (!builtins) {
    builtins = new Map();
    for (const factory of builtinPluginFactories) {
      const made = factory(pluginSdk) as Plugin | Plugin[];
      for (const plugin of Array.isArray(made) ? made : [made]) {
        builtins.set(plugin.type, plugin.configSchema);
      }
    }
  }
  return builtins;
}

/**
 * The task types a definition may use: the built-ins, plus every type an
 * agent has advertised (connected now or not), with the schema it sent.
 * Where agents advertised one type with different schemas, a connected
 * agent's wins over a disconnected one's, and the one connected last
 * over the others (an upgraded agent's, in a rolling upgrade, and the
 * same one from one definition to the next): an old agent's schema does
 * not outlive its upgrade.
 */
export async function loadTaskTypeCatalog(db: Db): Promise<TaskTypeCatalog> {
  const catalog = new Map(builtinTaskTypes());
  const rows = await db
    .select({ taskTypes: agents.taskTypes })
    .from(agents)
    .orderBy(
      sql`${agents.state} = 'DISCONNECTED'`,
      sql`${agents.connectedAt} DESC NULLS LAST`,
      sql`${agents.lastHeartbeatAt} DESC NULLS LAST`,
    );
  for (const row of rows) {
    for (const info of row.taskTypes) {
      const type = String(info.type);
      if (!catalog.has(type)) {
        catalog.set(type, (info.config_schema ?? {}) as ConfigSchema);
      }
    }
  }
  return catalog;
}
