import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { type Logger, makeDir } from "../../core/index.js";
import { lockDataDir } from "./data-dir-lock.js";
import { eagerTransaction } from "./eager-transaction.js";
import * as schema from "./schema.js";

/** A drizzle database (or transaction) over either driver. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = "pglite" | "postgres";

export interface DatabaseOptions {
  /** A postgres:// URL; when absent the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite's data directory; default ".deerflow/data". */
  dataDir?: string | undefined;
  /** Connections in the PostgreSQL pool; default 10. */
  poolSize?: number | undefined;
  /**
   * PostgreSQL's statement_timeout on the pool's sessions, in ms; 0 or
   * absent sends none, leaving the role's or database's setting. Lock
   * waits count. Migrations run without one: waiting for another
   * replica's migration, or building an index on a large table, may
   * take as long as it takes. PGlite has no timer to cancel a statement
   * with (a pg_sleep under its statement_timeout runs to the end), and
   * nothing else waits on its one connection: it ignores this.
   */
  statementTimeoutMs?: number | undefined;
  /**
   * PostgreSQL's idle_in_transaction_session_timeout on the pool's
   * sessions, in ms: a transaction left waiting on the control plane
   * that long loses its session and its locks. 0 or absent sends none;
   * PGlite ignores it.
   */
  idleInTransactionTimeoutMs?: number | undefined;
  logger: Logger;
}

/** A callback for a notification on a channel. */
export type NotificationHandler = (payload: string) => void;

/** The control plane's handle on its database. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** Subscribes to a LISTEN/NOTIFY channel; resolves to an unsubscribe. */
  listen(
    channel: string,
    handler: NotificationHandler,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Keys the advisory lock under which replicas migrate one at a time
 * (the ASCII of "deerflow" as a 64-bit number).
 */
export const MIGRATION_LOCK_KEY = 0x6465657266_6c6f77n;

/** Opens the database and applies pending migrations. */
export async function openDatabase(
  options: DatabaseOptions,
): Promise<Database> {
  return options.url
    ? openPostgres(options.url, options)
    : openPglite(options.dataDir ?? ".deerflow/data", options);
}

async function openPglite(
  dataDir: string,
  options: DatabaseOptions,
): Promise<Database> {
  await makeDir(dataDir).catch((error: unknown) => {
    throw new Error(
      `data dir ${dataDir}: cannot create it (--data-dir): ${(error as Error).message}`,
    );
  });
  // PGlite has one connection in one process, and nothing stops a second
  // process from opening the same files: the lock does.
  const lock = await lockDataDir(dataDir);
  let client: PGlite | undefined;
  try {
    client = await PGlite.create(dataDir);
    const db = drizzlePglite({ client, schema, casing: "snake_case" });
    // Under the lock no other replica can race the migration.
    await migratePglite(db, { migrationsFolder: MIGRATIONS });
    options.logger.info({ data_dir: dataDir }, "database opened");
    const opened = client;
    return {
      kind: "pglite",
      db: db as unknown as Db,
      async listen(channel, handler) {
        const unlisten = await opened.listen(channel, handler);
        return unlisten;
      },
      async close() {
        try {
          await opened.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await client?.close().catch(() => {});
    await lock.release();
    throw error;
  }
}

/**
 * How long postgres.js waits before it listens again, after `retries`
 * failed tries: 0.1 s doubling to 1 s. Its own backoff reaches 20 s after
 * a few failures, so after a database outage of a minute, notifications
 * (tasks queued, run events, orders for agents) stayed unheard for up to
 * 20 s once the database was back.
 */
export function listenBackoffSeconds(retries: number): number {
  return Math.min(0.1 * 2 ** Math.max(0, retries - 1), 1);
}

async function openPostgres(
  url: string,
  options: DatabaseOptions,
): Promise<Database> {
  const timeouts = sessionTimeouts(options);
  await migrateUnderLock(url, options.logger, timeouts);
  const client = postgres(url, {
    max: options.poolSize ?? 10,
    onnotice: () => {},
    connection: timeouts,
    backoff: listenBackoffSeconds,
  });
  // Behind a pooler that does not keep prepared statements across
  // transactions (PgBouncer in transaction mode before 1.21), set
  // DEERFLOW_DATABASE_PREPARE=false.
  const prepare = process.env.DEERFLOW_DATABASE_PREPARE !== "false";
  const db = drizzlePostgres({
    client: withEagerBegin(client, prepare),
    schema,
    casing: "snake_case",
  });
  commitsAfterStatements.add(db);
  options.logger.info(
    {
      url: redactUrl(url),
      statement_timeout_ms: options.statementTimeoutMs ?? 0,
      idle_in_transaction_timeout_ms: options.idleInTransactionTimeoutMs ?? 0,
    },
    "database opened",
  );
  return {
    kind: "postgres",
    db: db as unknown as Db,
    async listen(channel, handler) {
      const { unlisten } = await client.listen(channel, handler);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** The databases of {@link commitFollowsStatements}. */
const commitsAfterStatements = new WeakSet<object>();

/**
 * Whether a transaction of `db` may return while statements it sent are
 * still unanswered: its COMMIT then follows them on the connection, in
 * their round trip, and answers ROLLBACK (thrown) if one of them failed.
 * True on PostgreSQL. On PGlite a transaction waits for its statements
 * first: a statement still on its way through drizzle may not have
 * joined PGlite's queue before COMMIT does.
 */
export function commitFollowsStatements(db: Db): boolean {
  return commitsAfterStatements.has(db);
}

/**
 * The timeouts sent with each pool connection's startup. Only those
 * set: a pooler that refuses unknown startup parameters (PgBouncer
 * without them in ignore_startup_parameters) still works with both 0.
 */
function sessionTimeouts(options: DatabaseOptions): Record<string, number> {
  const timeouts: Record<string, number> = {};
  if (options.statementTimeoutMs) {
    timeouts.statement_timeout = options.statementTimeoutMs;
  }
  if (options.idleInTransactionTimeoutMs) {
    timeouts.idle_in_transaction_session_timeout =
      options.idleInTransactionTimeoutMs;
  }
  return timeouts;
}

/**
 * statement_timeout "0", not 0: postgres.js leaves out a startup
 * parameter that is falsy, though its types ask for a number.
 */
const NO_STATEMENT_TIMEOUT = {
  statement_timeout: "0" as unknown as number,
};

/**
 * Replicas starting together migrate one at a time. When the pool gets
 * a statement timeout, the migration's session turns it off: waiting for
 * the lock spans another replica's whole migration.
 */
async function migrateUnderLock(
  url: string,
  logger: Logger,
  timeouts: Record<string, number>,
): Promise<void> {
  // One connection, so the session-level lock covers the migration.
  const client = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: "statement_timeout" in timeouts ? NO_STATEMENT_TIMEOUT : {},
  });
  try {
    await client`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()})`;
    const db = drizzlePostgres({ client, casing: "snake_case" });
    await migratePostgres(db, { migrationsFolder: MIGRATIONS });
    await client`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()})`;
    logger.debug("migrations applied");
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable url)";
  }
}

/** Rows of a raw `db.execute`, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * The client drizzle uses: transactions send BEGIN with their first
 * statement (`eagerTransaction`), and, when `prepare`, statements are
 * prepared. drizzle asks postgres.js for an unnamed statement each time
 * (`prepare: false`), which PostgreSQL parses and plans on every call;
 * the claim and settle statements are large CTEs that took longer to
 * plan than to run. postgres.js keeps up to 1,000 prepared statements
 * per connection, by text.
 */
function withEagerBegin(client: postgres.Sql, prepare: boolean): postgres.Sql {
  const statements = <S extends postgres.Sql | postgres.ReservedSql>(
    target: S,
  ): S => (prepare ? preparing(target) : target);
  return new Proxy(statements(client), {
    get(target, key, receiver) {
      if (key === "begin") {
        return (...args: unknown[]) => {
          if (args.length !== 1) {
            throw new Error(
              "begin with a transaction mode is not supported: set it with SET TRANSACTION",
            );
          }
          const work = args[0] as (
            tx: postgres.ReservedSql,
          ) => Promise<unknown>;
          return eagerTransaction(client, work, statements);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/** `client` with every statement it runs prepared. */
function preparing<S extends postgres.Sql | postgres.ReservedSql>(
  client: S,
): S {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key === "unsafe") {
        return (query: string, params?: unknown[], options?: object) =>
          target.unsafe(query, params as never, { ...options, prepare: true });
      }
      return Reflect.get(target, key, receiver);
    },
  });
}
