/**
 * How a statement failed, as a driver sees it:
 * - `sql`: the server refused it (`code` is the SQLSTATE, `errno` MySQL's
 *   error number);
 * - `connection`: the server could not be reached or the link broke;
 * - `timeout`: `statement_timeout` elapsed and the statement was stopped;
 * - `stopped`: the attempt's signal aborted and the statement was
 *   stopped;
 * - `client`: the driver refused the request before sending it.
 */
export type SqlFailureKind =
  | "sql"
  | "connection"
  | "timeout"
  | "stopped"
  | "client";

/** Options of a {@link SqlFailure}. */
export interface SqlFailureOptions {
  code?: string;
  errno?: number;
}

/**
 * A driver's failure, classified. Its message comes from the driver and
 * may hold the password: it is redacted before it goes anywhere.
 */
export class SqlFailure extends Error {
  override readonly name = "SqlFailure";
  readonly kind: SqlFailureKind;
  readonly code: string | undefined;
  readonly errno: number | undefined;

  constructor(
    kind: SqlFailureKind,
    message: string,
    options: SqlFailureOptions = {},
  ) {
    super(message);
    this.kind = kind;
    this.code = options.code;
    this.errno = options.errno;
  }
}

/**
 * SQLSTATE classes no retry can fix: data exceptions (22), integrity
 * violations (23), syntax errors and missing objects or rights (42), and
 * unsupported features (0A). Others (serialization failures, deadlocks,
 * a server shutting down, too many connections) are worth another try.
 */
const PERMANENT_CLASSES = new Set(["0A", "22", "23", "42"]);

/** True when a SQLSTATE says the same statement will fail again. */
export function isPermanentSqlState(code: string | undefined): boolean {
  return code !== undefined && PERMANENT_CLASSES.has(code.slice(0, 2));
}
