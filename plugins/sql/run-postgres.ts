import postgres from "postgres";
import { SqlFailure } from "./sql-failure.js";
import type {
  StatementOutcome,
  StatementRequest,
} from "./statement-request.js";

type Queryable = Pick<postgres.Sql, "unsafe">;

/** postgres.js codes for a connection that failed or broke. */
const CONNECTION_CODES = new Set([
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CANCEL_UNANSWERED",
  "TLS_HANDSHAKE_FAILED",
  "SSL_NOT_SUPPORTED",
]);

/**
 * Runs one statement with postgres.js on a pool of one connection made
 * for it and ended after it. The statement goes by the extended protocol
 * (never the simple one, which would run several statements), with its
 * values as bind parameters. `statement_timeout` is set in the session
 * (or the transaction) so the server enforces it; an abort sends a
 * cancel request, and postgres.js closes the connection if the server
 * does not answer it within `cancelGraceMs`. Throws {@link SqlFailure}.
 */
export async function runPostgres(
  request: StatementRequest,
): Promise<StatementOutcome> {
  const sql = postgres(request.target.url, {
    max: 1,
    prepare: false,
    connect_timeout: request.connectTimeoutMs / 1_000,
    cancel_timeout: request.cancelGraceMs / 1_000,
    max_lifetime: null,
    onnotice: (notice) =>
      request.log.info("server notice", {
        severity: notice.severity ?? "",
        code: notice.code ?? "",
        message: notice.message ?? "",
      }),
    connection: { application_name: request.applicationName },
  });
  try {
    return request.transaction
      ? await sql.begin((tx) => runOn(tx, request))
      : await runOn(sql, request);
  } catch (error) {
    throw postgresFailure(error, request);
  } finally {
    await sql
      .end({ timeout: request.cancelGraceMs / 1_000 })
      .catch(() => undefined);
  }
}

async function runOn(
  sql: Queryable,
  request: StatementRequest,
): Promise<StatementOutcome> {
  const { log, signal, statement, target } = request;
  const [session] = await setupQuery(sql, request).signal(signal);
  const connectionId = Number(session?.pid);
  log.info("connected", {
    dialect: "postgres",
    hosts: target.hosts,
    database: target.database,
    user: target.user,
    connection_id: connectionId,
  });
  if (signal.aborted) {
    throw new SqlFailure("stopped", "stopped before the statement was sent");
  }
  log.info("statement started", { connection_id: connectionId });
  const started = performance.now();
  const result = await sql
    .unsafe(statement.text, statement.values as never[], {
      simple: false,
      prepare: false,
    })
    .signal(signal)
    .forEach((row) => {
      request.rows.add(row);
    });
  return {
    rowCount: result.count ?? request.rows.count,
    columns: (result.columns ?? []).map((column) => String(column.name)),
    durationMs: performance.now() - started,
  };
}

/**
 * Learns the backend's pid (logged, so an operator can find the session)
 * and sets the statement timeout, local to the transaction when there is
 * one. The timeout goes as a bind parameter like every other value.
 */
function setupQuery(sql: Queryable, request: StatementRequest) {
  const timeoutMs = request.statementTimeoutMs;
  if (timeoutMs === undefined) {
    return sql.unsafe("select pg_backend_pid() as pid", [], { simple: false });
  }
  return sql.unsafe(
    "select pg_backend_pid() as pid, " +
      "set_config('statement_timeout', $1, $2) as statement_timeout",
    [String(Math.max(1, Math.ceil(timeoutMs))), request.transaction],
  );
}

function postgresFailure(error: unknown, request: StatementRequest) {
  if (error instanceof SqlFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : undefined;
  if (request.signal.aborted) {
    return new SqlFailure("stopped", message, { code });
  }
  if (error instanceof postgres.PostgresError) {
    // 57014 is also a cancel by someone else (pg_cancel_backend); with a
    // timeout set, the server's own timeout is by far the likelier.
    const timedOut =
      code === "57014" && request.statementTimeoutMs !== undefined;
    return new SqlFailure(timedOut ? "timeout" : "sql", message, { code });
  }
  if (
    code !== undefined &&
    (/^E[A-Z]+$/.test(code) || CONNECTION_CODES.has(code))
  ) {
    return new SqlFailure("connection", message, { code });
  }
  return new SqlFailure("client", message, { code });
}
