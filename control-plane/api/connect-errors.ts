import { Code, ConnectError } from "@connectrpc/connect";

/** SQLSTATE classes and codes we map to gRPC codes. */
const UNIQUE_VIOLATION = "23505";
const INVALID_TEXT = "22P02";
const SERIALIZATION_FAILURE = "40001";
const DEADLOCK = "40P01";
/** query_canceled: a statement timeout, or someone's pg_cancel_backend. */
const QUERY_CANCELED = "57014";

/**
 * The one place database and internal errors become API errors. A
 * ConnectError passes through; PostgreSQL errors map by SQLSTATE;
 * connection failures and statements the database cancelled (a
 * statement timeout) are Unavailable (the caller may retry); the rest
 * are Internal, with the cause kept for the server's log.
 */
export function toConnectError(error: unknown): ConnectError {
  if (isRequestDecodeError(error)) {
    return new ConnectError(
      `the request body is not a valid protobuf message (${error.rawMessage})`,
      Code.InvalidArgument,
      undefined,
      undefined,
      error,
    );
  }
  if (error instanceof ConnectError) return error;
  if (isPeerGone(error)) {
    return new ConnectError(
      "the peer closed the stream",
      Code.Canceled,
      undefined,
      undefined,
      error,
    );
  }
  const code = sqlState(error);
  switch (code) {
    case UNIQUE_VIOLATION:
      return new ConnectError(
        "already exists",
        Code.AlreadyExists,
        undefined,
        undefined,
        error,
      );
    case INVALID_TEXT:
      return new ConnectError(
        "a value has the wrong form",
        Code.InvalidArgument,
        undefined,
        undefined,
        error,
      );
    case SERIALIZATION_FAILURE:
    case DEADLOCK:
      return new ConnectError(
        "conflicting update; retry",
        Code.Aborted,
        undefined,
        undefined,
        error,
      );
    case QUERY_CANCELED:
      // Unavailable, not DeadlineExceeded: the statement's transaction
      // rolled back, so a retry is safe, and callers that ride out a
      // database outage (run watchers) ride this out too.
      return new ConnectError(
        isStatementTimeout(error)
          ? "the database statement timed out (statement timeout)"
          : "the database cancelled the statement",
        Code.Unavailable,
        undefined,
        undefined,
        error,
      );
  }
  if (isConnectionError(error)) {
    return new ConnectError(
      "the database is unavailable",
      Code.Unavailable,
      undefined,
      undefined,
      error,
    );
  }
  return new ConnectError(
    "internal error",
    Code.Internal,
    undefined,
    undefined,
    error,
  );
}

/**
 * A message that would not decode: connect-es reports it as Internal
 * ("parse binary: illegal tag ...") although the bytes are the caller's,
 * as its JSON decoding already does with InvalidArgument.
 *
 * This mapping reaches only what the interceptors see: messages of
 * streaming calls. connect-es 2.1 (and 2.3) decodes a unary request
 * before any interceptor runs and offers no option to change the code,
 * so a garbage unary body still answers Internal; fixing that needs a
 * wrapper around the router's handlers in control-plane.ts, or the
 * change upstream.
 */
export function isRequestDecodeError(error: unknown): error is ConnectError {
  return (
    error instanceof ConnectError &&
    error.code === Code.Internal &&
    error.rawMessage.startsWith("parse binary: ")
  );
}

/**
 * A message flagged compressed on a call without grpc-encoding: gRPC
 * answers it Internal, as connect-es does, though the fault is the
 * caller's, so the control plane does not log it as its own.
 */
export function isCompressedWithoutEncoding(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    error.code === Code.Internal &&
    (error.rawMessage === COMPRESSED_WITHOUT_ENCODING ||
      error.rawMessage === CONNECT_ES_COMPRESSED_WITHOUT_ENCODING)
  );
}

/** Our gRPC route's words for that fault. */
export const COMPRESSED_WITHOUT_ENCODING =
  "received a compressed message without grpc-encoding";

/** connect-es 2.1's words for it. */
const CONNECT_ES_COMPRESSED_WITHOUT_ENCODING =
  "received compressed envelope, but do not know how to decompress";

/** The SQLSTATE of a postgres.js or PGlite error, also when wrapped. */
export function sqlState(error: unknown): string | undefined {
  for (const code of codesOf(error)) {
    if (/^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * The string `code`s of an error and of its causes, outermost first, as
 * drizzle wraps the driver's error ("Failed query: ...").
 */
function* codesOf(error: unknown): Generator<string> {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") yield code;
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * A cancel for statement_timeout rather than an operator's: PostgreSQL
 * says which only in its message ("canceling statement due to statement
 * timeout"), in English unless lc_messages says otherwise.
 */
function isStatementTimeout(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const message = (current as { message?: unknown }).message;
    if (typeof message === "string" && /statement timeout/.test(message)) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The client went away mid-stream: normal for agents and watchers. */
function isPeerGone(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ABORT_ERR";
}

/** Node's and postgres.js's codes for a connection that failed or broke. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * SQLSTATEs of a server that is going away or not taking connections:
 * admin_shutdown (a failover, a restart), crash_shutdown,
 * cannot_connect_now (starting up) and too_many_connections; and
 * idle_in_transaction_session_timeout, a session the server ended.
 * Class 08, connection exception, is all of that kind too.
 */
const UNAVAILABLE_STATES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "25P03",
]);

/**
 * The database could not be reached or dropped the connection: worth a
 * retry. Looks through the causes ("Failed query: ...", caused by
 * "connect ECONNREFUSED").
 */
function isConnectionError(error: unknown): boolean {
  for (const code of codesOf(error)) {
    if (CONNECTION_CODES.has(code) || UNAVAILABLE_STATES.has(code)) {
      return true;
    }
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}

/** InvalidArgument for a field, with the field's name first. */
export function invalidArgument(field: string, message: string): ConnectError {
  return new ConnectError(`${field}: ${message}`, Code.InvalidArgument);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks an id field that must be a UUID (run ids, lease ids). */
export function requireUuid(field: string, value: string): string {
  if (value === "") throw invalidArgument(field, "is required");
  if (!UUID.test(value))
    throw invalidArgument(field, `"${value}" is not a valid id`);
  return value.toLowerCase();
}
