/** The built-in `sql` task type. */
export { type BoundStatement, bindStatement } from "./bound-statement.js";
export {
  type ConnectionTarget,
  ConnectionUrlError,
  parseConnectionTarget,
  redact,
  type SqlDialect,
} from "./connection-target.js";
export { rowToJson, toJsonSafe } from "./json-safe.js";
export { type SqlScan, SqlTextError, scanSql } from "./scan-sql.js";
export {
  DEFAULT_MAX_ROWS,
  MAX_ROWS_LIMIT,
  type SqlConfig,
  sqlConfigSchema,
} from "./sql-config.js";
export {
  createSqlPlugin,
  type SqlPluginOptions,
  sqlPlugin,
} from "./sql-plugin.js";
