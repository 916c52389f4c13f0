import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

/** Where one scenario's control plane keeps its state. */
export interface BenchDatabase {
  kind: "postgres" | "pglite";
  /** The scenario's own postgres:// URL (PostgreSQL only). */
  url: string | undefined;
  /** PGlite's data directory (PGlite only). */
  dataDir: string | undefined;
  /** The database's name on the server (PostgreSQL only). */
  name: string | undefined;
  /** Drops the database (or removes the data directory). */
  drop(): Promise<void>;
}

/**
 * Makes a fresh database `deerflow_bench_<time>_<random>` on the server
 * of `adminUrl`, so no run leaves rows that slow the next one.
 */
export async function createPostgresDatabase(
  adminUrl: string,
): Promise<BenchDatabase> {
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const name = `deerflow_bench_${stamp}_${randomBytes(3).toString("hex")}`;
  await withAdmin(adminUrl, async (sql) => {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: "postgres",
    url: url.toString(),
    dataDir: undefined,
    name,
    drop: () =>
      withAdmin(adminUrl, async (sql) => {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/** A fresh, empty PGlite data directory; the server creates the database. */
export async function createPgliteDatabase(): Promise<BenchDatabase> {
  const root = await mkdtemp(join(tmpdir(), "deerflow-bench-pglite-"));
  return {
    kind: "pglite",
    url: undefined,
    dataDir: join(root, "data"),
    name: undefined,
    drop: () => rm(root, { recursive: true, force: true }),
  };
}

/** The server's version string, e.g. "15.20 (Debian 15.20-0+deb12u1)". */
export async function postgresVersion(adminUrl: string): Promise<string> {
  const rows = await withAdmin(
    adminUrl,
    (sql) => sql`SHOW server_version` as Promise<{ server_version: string }[]>,
  );
  return rows[0]?.server_version ?? "unknown";
}

/**
 * What a commit on the server means for durability: its `fsync` and
 * `synchronous_commit` settings, as the peers scenario reports them.
 */
export async function postgresDurability(adminUrl: string): Promise<string> {
  const rows = await withAdmin(
    adminUrl,
    (sql) =>
      sql`
      SELECT current_setting('fsync') AS fsync,
        current_setting('synchronous_commit') AS synchronous_commit` as Promise<
        { fsync: string; synchronous_commit: string }[]
      >,
  );
  const { fsync = "?", synchronous_commit: commit = "?" } = rows[0] ?? {};
  const flushed = fsync === "on" && commit !== "off";
  return `PostgreSQL: fsync ${fsync}, synchronous_commit ${commit}${flushed ? " (a commit is on disk when it is acknowledged)" : ""}`;
}

/**
 * Connections the server can still open to ordinary users: its
 * `max_connections` less the slots reserved for superusers and those in
 * use now. A peer that opens a connection per job at once is given its
 * share of these, or it fails with "too many clients".
 */
export async function freeConnections(adminUrl: string): Promise<number> {
  const rows = await withAdmin(
    adminUrl,
    (sql) =>
      sql`
      SELECT current_setting('max_connections')::int
        - current_setting('superuser_reserved_connections')::int
        - (SELECT count(*)::int FROM pg_stat_activity) AS free` as Promise<
        { free: number }[]
      >,
  );
  return rows[0]?.free ?? 0;
}

async function withAdmin<T>(
  adminUrl: string,
  use: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}
