import type {
  ExecuteResult,
  JsonObject,
  JsonValue,
  PluginSdk,
  TaskContext,
  TaskError,
} from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import { type BoundStatement, bindStatement } from "./bound-statement.js";
import {
  type ConnectionTarget,
  ConnectionUrlError,
  parseConnectionTarget,
  redact,
} from "./connection-target.js";
import { RowCollector } from "./row-collector.js";
import { runPostgres } from "./run-postgres.js";
import { SqlTextError } from "./scan-sql.js";
import {
  DEFAULT_MAX_ROWS,
  type SqlConfig,
  sqlConfigSchema,
} from "./sql-config.js";
import { isPermanentSqlState, SqlFailure } from "./sql-failure.js";
import type { StatementOutcome } from "./statement-request.js";

/** Options of the sql plugin, fixed when the agent loads it. */
export interface SqlPluginOptions {
  /** How long connecting may take. Default 30,000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a statement that was asked to stop (cancel, timeout) gets
   * before its connection is closed under it. Default 5,000 ms.
   */
  cancelGraceMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_CANCEL_GRACE_MS = 5_000;

/** Makes a sql plugin factory with the given options. */
export function createSqlPlugin(options: SqlPluginOptions = {}) {
  const settings = resolveOptions(options);
  return (sdk: PluginSdk) =>
    sdk.definePlugin<SqlConfig>({
      type: "sql",
      version: "1.0.0",
      description:
        "Runs one SQL statement on PostgreSQL or MySQL/MariaDB, with " +
        "template values as bind parameters.",
      configSchema: sqlConfigSchema,
      execute: (ctx) => executeSql(sdk, settings, ctx),
    });
}

/** The built-in `sql` task type. */
export const sqlPlugin = createSqlPlugin();
export default sqlPlugin;

function resolveOptions(options: SqlPluginOptions): Required<SqlPluginOptions> {
  const resolved = {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    cancelGraceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`sql plugin: ${name} must be > 0 ms, got ${value}`);
    }
  }
  return resolved;
}

async function executeSql(
  sdk: PluginSdk,
  options: Required<SqlPluginOptions>,
  ctx: TaskContext<SqlConfig>,
): Promise<ExecuteResult> {
  const { config } = ctx;
  const target = connectionTarget(sdk, config.connection);
  const statement = boundStatement(sdk, ctx, target);
  const fetch = config.fetch_results !== false;
  const rows = new RowCollector(
    fetch ? (config.max_rows ?? DEFAULT_MAX_ROWS) : 0,
  );
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "statement");
  // mysql2 loads only for a MySQL task: most agents never need it.
  const run =
    target.dialect === "postgres"
      ? runPostgres
      : (await import("./run-mysql.js")).runMysql;
  let outcome: StatementOutcome;
  try {
    outcome = await run({
      target,
      statement,
      transaction: config.transaction === true,
      statementTimeoutMs:
        config.statement_timeout === undefined
          ? undefined
          : config.statement_timeout * 1_000,
      rows,
      signal: ctx.signal,
      log: ctx.log,
      applicationName: applicationName(ctx),
      ...options,
    });
  } catch (error) {
    throw failureError(sdk, ctx, target, error);
  }
  record(ctx, target, outcome, rows);
  const output: JsonObject = {
    row_count: outcome.rowCount,
    columns: outcome.columns,
  };
  if (fetch) {
    output.rows = rows.rows;
    output.truncated = rows.truncated;
  }
  ctx.output(output);
  return {};
}

function connectionTarget(sdk: PluginSdk, url: unknown): ConnectionTarget {
  if (typeof url !== "string") {
    throw new sdk.NonRetryableError("config.connection: must be a string");
  }
  try {
    return parseConnectionTarget(url);
  } catch (error) {
    if (!(error instanceof ConnectionUrlError)) throw error;
    throw new sdk.NonRetryableError(`config.connection: ${error.message}`);
  }
}

/** Binds the query's templates and joins it with its placeholders. */
function boundStatement(
  sdk: PluginSdk,
  ctx: TaskContext<SqlConfig>,
  target: ConnectionTarget,
): BoundStatement {
  const { query, params } = ctx.config;
  if (typeof query !== "string") {
    throw new sdk.NonRetryableError("config.query: must be a string");
  }
  if (params !== undefined && !Array.isArray(params)) {
    throw new sdk.NonRetryableError("config.params: must be an array");
  }
  let bound: { strings: string[]; values: JsonValue[] };
  try {
    bound = ctx.bind(query, "config.query");
  } catch (error) {
    // A template that does not evaluate will not on the next attempt.
    const message = error instanceof Error ? error.message : String(error);
    const field = (error as { field?: unknown }).field;
    const prefix = typeof field === "string" ? field : "config.query";
    throw new sdk.NonRetryableError(
      message.startsWith(prefix) ? message : `${prefix}: ${message}`,
    );
  }
  try {
    return bindStatement(bound, params ?? [], target.dialect);
  } catch (error) {
    if (!(error instanceof SqlTextError)) throw error;
    throw new sdk.NonRetryableError(`config.query: ${error.message}`);
  }
}

/**
 * Names the session after the attempt (visible in pg_stat_activity), so
 * an operator can tell which task a statement belongs to.
 */
function applicationName(ctx: TaskContext<SqlConfig>): string {
  return `deerflow ${ctx.runId}/${ctx.taskId}#${ctx.attempt}`.slice(0, 63);
}

function record(
  ctx: TaskContext<SqlConfig>,
  target: ConnectionTarget,
  outcome: StatementOutcome,
  rows: RowCollector,
): void {
  const labels = { dialect: target.dialect };
  ctx.metrics.timer("sql_statement_duration_ms", outcome.durationMs, labels);
  ctx.metrics.gauge("sql_row_count", outcome.rowCount, labels);
  ctx.log.info("statement finished", {
    dialect: target.dialect,
    duration_ms: Math.round(outcome.durationMs),
    row_count: outcome.rowCount,
    truncated: rows.truncated,
  });
}

/**
 * Turns a driver failure into the attempt's error, with the SQLSTATE
 * (and MySQL errno) in the message and the password cut out. The
 * driver's error is not kept as `cause`: it may hold the password or
 * the bound values.
 */
function failureError(
  sdk: PluginSdk,
  ctx: TaskContext<SqlConfig>,
  target: ConnectionTarget,
  error: unknown,
): TaskError {
  const failure =
    error instanceof SqlFailure
      ? error
      : new SqlFailure(
          "client",
          error instanceof Error ? error.message : String(error),
        );
  // The task's own secrets too: a driver may echo a value it was given.
  const secrets = [...target.secrets, ...Object.values(ctx.secrets)];
  const detail = redact(failure.message, secrets);
  ctx.log.warn("statement failed", {
    dialect: target.dialect,
    kind: failure.kind,
    code: failure.code ?? "",
  });
  switch (failure.kind) {
    case "stopped":
      return abortError(sdk, ctx.signal, "statement");
    case "timeout":
      return new sdk.TaskError(
        `statement timed out after ${ctx.config.statement_timeout}s ` +
          `(statement_timeout)`,
        { retryClass: "timeout" },
      );
    case "sql":
      return sqlError(sdk, failure, detail);
    case "connection":
      return new sdk.TaskError(
        `cannot reach the database at ${redact(target.hosts, secrets)}: ${detail}`,
      );
    default:
      return new sdk.TaskError(`statement failed: ${detail}`);
  }
}

function sqlError(sdk: PluginSdk, failure: SqlFailure, detail: string) {
  const state = `SQLSTATE ${failure.code ?? "unknown"}`;
  const code =
    failure.errno === undefined ? state : `errno ${failure.errno}, ${state}`;
  const message = `SQL error (${code}): ${detail}`;
  return isPermanentSqlState(failure.code)
    ? new sdk.NonRetryableError(message)
    : new sdk.TaskError(message);
}
