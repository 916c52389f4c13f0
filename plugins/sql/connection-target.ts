/** The database family a connection URL names. */
export type SqlDialect = "postgres" | "mysql";

const DIALECTS: Record<string, SqlDialect> = {
  postgres: "postgres",
  postgresql: "postgres",
  mysql: "mysql",
  mariadb: "mysql",
};

/** TLS settings a mysql:// URL may ask for with `?ssl=`. */
export type MysqlTls = "off" | "verify";

/** What the plugin needs to know about `config.connection`. */
export interface ConnectionTarget {
  dialect: SqlDialect;
  /**
   * The URL exactly as configured, for postgres.js, which understands
   * its multi-host form and libpq's query parameters. Holds the
   * password: never log it.
   */
  url: string;
  /** Host list as written (`h1:5432,h2`), for logs. */
  hosts: string;
  /** The first host; for MySQL the only one. */
  host: string;
  port: number | undefined;
  database: string;
  user: string;
  /** Decoded. Never log it. */
  password: string;
  /** MySQL only: from `?ssl=true`. */
  mysqlTls: MysqlTls;
  /** MySQL only: from `?charset=`. */
  mysqlCharset: string | undefined;
  /** Every text that must be cut out of errors and logs. */
  secrets: string[];
}

/**
 * `config.connection` cannot be used. The message never holds the URL,
 * since the URL may hold a password.
 */
export class ConnectionUrlError extends Error {
  override readonly name = "ConnectionUrlError";
}

const SECRET_PARAMS = new Set(["password", "sslpassword"]);

/**
 * Splits a connection URL by hand rather than with `URL`: PostgreSQL's
 * multi-host form (`h1:5432,h2:5433`) is not a WHATWG URL. Throws
 * {@link ConnectionUrlError} for a URL that is not one or names a
 * database this plugin does not speak.
 */
export function parseConnectionTarget(text: string): ConnectionTarget {
  const schemeEnd = text.indexOf("://");
  const scheme = schemeEnd === -1 ? "" : text.slice(0, schemeEnd);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) {
    throw new ConnectionUrlError("is not a URL (want scheme://...)");
  }
  const dialect = DIALECTS[scheme.toLowerCase()];
  if (dialect === undefined) {
    throw new ConnectionUrlError(
      `scheme "${scheme}" is not supported; use postgres://, ` +
        "postgresql://, mysql:// or mariadb://",
    );
  }
  const rest = text.slice(schemeEnd + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? "" : rest.slice(authorityEnd);
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at);
  const hosts = authority.slice(at + 1);
  const colon = userinfo.indexOf(":");
  const rawPassword = colon === -1 ? "" : userinfo.slice(colon + 1);
  const password = decode(rawPassword, "the password");
  const secrets = [rawPassword, password];
  const query = parseTail(tail, secrets);
  const target: ConnectionTarget = {
    dialect,
    url: text,
    hosts,
    ...hostAndPort(dialect, hosts),
    database: query.database,
    user: decode(colon === -1 ? userinfo : userinfo.slice(0, colon), "user"),
    password,
    mysqlTls: "off",
    mysqlCharset: undefined,
    secrets: secrets.filter((s) => s !== ""),
  };
  if (dialect === "mysql") applyMysqlParams(target, query.params);
  return target;
}

/** Replaces every secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is cut whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== "") out = out.split(secret).join("***");
  }
  return out;
}

function parseTail(tail: string, secrets: string[]) {
  const hash = tail.indexOf("#");
  const withoutHash = hash === -1 ? tail : tail.slice(0, hash);
  const question = withoutHash.indexOf("?");
  const path = question === -1 ? withoutHash : withoutHash.slice(0, question);
  const search = question === -1 ? "" : withoutHash.slice(question + 1);
  const params = new URLSearchParams(search);
  for (const [key, value] of params) {
    if (SECRET_PARAMS.has(key.toLowerCase()) && value !== "") {
      secrets.push(value, encodeURIComponent(value));
    }
  }
  return { database: decode(path.replace(/^\//, ""), "database"), params };
}

function hostAndPort(
  dialect: SqlDialect,
  hosts: string,
): { host: string; port: number | undefined } {
  const first = hosts.split(",")[0] ?? "";
  if (dialect === "mysql" && hosts.includes(",")) {
    throw new ConnectionUrlError("mysql:// takes one host, not a list");
  }
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(first);
  if (match === null) {
    throw new ConnectionUrlError("has a host that is not host[:port]");
  }
  const host = decode((match[1] ?? "").replace(/^\[|\]$/g, ""), "host");
  const portText = match[2] ?? "";
  const port = portText === "" ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65_535)) {
    throw new ConnectionUrlError(`port ${portText} is not 1-65535`);
  }
  if (dialect === "mysql" && host === "") {
    throw new ConnectionUrlError("mysql:// needs a host");
  }
  return { host, port };
}

/**
 * mysql2 would turn every query parameter into a driver option (even
 * `multipleStatements`), so only these are read, and others refused.
 */
function applyMysqlParams(target: ConnectionTarget, params: URLSearchParams) {
  for (const [key, value] of params) {
    if (key === "ssl") {
      target.mysqlTls = mysqlTls(value);
    } else if (key === "charset" && /^[A-Za-z0-9_]+$/.test(value)) {
      target.mysqlCharset = value;
    } else {
      throw new ConnectionUrlError(
        `query parameter "${key}" is not supported for mysql:// ` +
          "(supported: ssl=true|false, charset=NAME)",
      );
    }
  }
}

function mysqlTls(value: string): MysqlTls {
  if (value === "true" || value === "required") return "verify";
  if (value === "false" || value === "disabled") return "off";
  throw new ConnectionUrlError(`ssl=${value} is not true or false`);
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConnectionUrlError(`${what} has a malformed %-escape`);
  }
}
