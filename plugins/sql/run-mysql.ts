import mysql, {
  type Connection,
  type ConnectionOptions,
  type FieldPacket,
  type ResultSetHeader,
} from "mysql2";
import { QueryStopper } from "./mysql-query-stopper.js";
import { simpleQuery } from "./mysql-simple-query.js";
import { SqlFailure } from "./sql-failure.js";
import type {
  StatementOutcome,
  StatementRequest,
} from "./statement-request.js";

/**
 * Runs one statement with mysql2 on a connection made for it and closed
 * after it. The statement is a server-side prepared statement
 * (`execute`), so values travel as bind parameters and are never
 * escaped into the text, and `multipleStatements` stays off. Timeout and
 * cancel both send `KILL QUERY <id>` from a second connection (the only
 * way to stop a statement in MySQL and MariaDB alike), then the
 * connection is closed, which rolls back an open transaction. Throws
 * {@link SqlFailure}.
 */
export async function runMysql(
  request: StatementRequest,
): Promise<StatementOutcome> {
  const options = connectionOptions(request);
  const connection = await connect(options, request).catch((error: unknown) =>
    Promise.reject(mysqlFailure(error)),
  );
  const stopper = new QueryStopper(connection, options, request);
  try {
    request.log.info("connected", {
      dialect: "mysql",
      hosts: request.target.hosts,
      database: request.target.database,
      user: request.target.user,
      connection_id: connection.threadId,
    });
    if (request.transaction) await simpleQuery(connection, "START TRANSACTION");
    stopper.arm();
    const outcome = await execute(connection, request, stopper.cut);
    stopper.throwIfStopped();
    if (request.transaction) await simpleQuery(connection, "COMMIT");
    return outcome;
  } catch (error) {
    stopper.throwIfStopped();
    throw mysqlFailure(error);
  } finally {
    await stopper.settle();
    await close(connection, request.cancelGraceMs);
  }
}

function connectionOptions(request: StatementRequest): ConnectionOptions {
  const { target } = request;
  return {
    host: target.host,
    port: target.port ?? 3306,
    user: target.user,
    password: target.password,
    database: target.database === "" ? undefined : target.database,
    charset: target.mysqlCharset,
    ssl:
      target.mysqlTls === "verify" ? { rejectUnauthorized: true } : undefined,
    connectTimeout: request.connectTimeoutMs,
    multipleStatements: false,
    // BIGINT and DECIMAL as strings keep their precision; DATETIME is
    // read as UTC, as PostgreSQL's timestamp is.
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: false,
    timezone: "Z",
  };
}

function connect(
  options: ConnectionOptions,
  request: StatementRequest,
): Promise<Connection> {
  const { signal } = request;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new SqlFailure("stopped", "stopped before connecting"));
      return;
    }
    const connection = mysql.createConnection(options);
    // A broken link with no command waiting is emitted as "error"; an
    // EventEmitter error without a listener would end the agent.
    connection.on("error", (error: Error) =>
      request.log.debug("connection error", { message: error.message }),
    );
    const onAbort = () => {
      connection.destroy();
      reject(new SqlFailure("stopped", "stopped while connecting"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    connection.connect((error) => {
      signal.removeEventListener("abort", onAbort);
      if (error) {
        connection.destroy();
        reject(error);
      } else {
        resolve(connection);
      }
    });
  });
}

/** Streams the statement's rows into the collector as they arrive. */
function execute(
  connection: Connection,
  request: StatementRequest,
  cut: AbortSignal,
): Promise<StatementOutcome> {
  const { statement, rows, log } = request;
  return new Promise((resolve, reject) => {
    // mysql2 never settles a command whose connection it closed itself.
    cut.addEventListener("abort", () => reject(cut.reason), { once: true });
    log.info("statement started", { connection_id: connection.threadId });
    const started = performance.now();
    let columns: string[] | undefined;
    let header: ResultSetHeader | undefined;
    let failed = false;
    const command = connection.execute(statement.text, statement.values);
    command.on("fields", (fields?: FieldPacket[]) => {
      if (fields) columns = fields.map((field) => field.name);
    });
    command.on("result", (row: Record<string, unknown>) => {
      if (columns === undefined) header = row as unknown as ResultSetHeader;
      else rows.add(row);
    });
    command.on("error", (error: Error) => {
      failed = true;
      reject(error);
    });
    command.on("end", () => {
      if (failed) return;
      resolve({
        rowCount:
          columns === undefined ? (header?.affectedRows ?? 0) : rows.count,
        columns: columns ?? [],
        durationMs: performance.now() - started,
      });
    });
  });
}

/** Ends the connection politely, or cuts it after `graceMs`. */
function close(connection: Connection, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      connection.destroy();
      resolve();
    }, graceMs);
    connection.end(() => {
      clearTimeout(timer);
      connection.destroy();
      resolve();
    });
  });
}

function mysqlFailure(error: unknown): SqlFailure {
  if (error instanceof SqlFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  const e = error as { sqlState?: unknown; errno?: unknown; code?: unknown };
  const errno = typeof e.errno === "number" ? e.errno : undefined;
  const sqlState = typeof e.sqlState === "string" ? e.sqlState : undefined;
  if (sqlState !== undefined && errno !== undefined) {
    return new SqlFailure("sql", message, { code: sqlState, errno });
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  const fatal = (error as { fatal?: unknown }).fatal === true;
  if (fatal || (code !== undefined && /^E[A-Z]+$/.test(code))) {
    return new SqlFailure("connection", message, { code });
  }
  return new SqlFailure("client", message, { code });
}
