import type { Text } from "../config-value.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The config of a `sql` task (SPEC §6). */
export interface SqlConfig {
  /** A postgres:// or mysql:// URL, often `${secrets.NAME}`. */
  connection: Text;
  /** Template values become bind parameters, never SQL text. */
  query: Text;
  /** Whether the output keeps the rows (capped); default per plugin. */
  fetch_results?: boolean;
}

/** A `sql` task: runs a statement; output rows and row count. */
export class SqlTask extends Task<SqlConfig> {
  constructor(id: string, config: SqlConfig, options?: TaskOptions) {
    super(id, "sql", config, options);
  }
}
