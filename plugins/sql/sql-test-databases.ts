/**
 * Scratch databases on the machine's real servers for the sql plugin's
 * tests and conformance cases: a PostgreSQL schema or a MariaDB/MySQL
 * database with a unique name, dropped afterwards. The servers default
 * to this machine's (PostgreSQL trust auth; MariaDB root without a
 * password over TCP) and can be pointed elsewhere with
 * DEERFLOW_SQL_POSTGRES_URL and DEERFLOW_SQL_MYSQL_URL.
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import postgres from "postgres";

/** The PostgreSQL server the tests use. */
export const POSTGRES_URL =
  process.env.DEERFLOW_SQL_POSTGRES_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** The MySQL/MariaDB server the tests use (no database in the path). */
export const MYSQL_URL =
  process.env.DEERFLOW_SQL_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";

/** A unique, lowercase name for a scratch schema or database. */
export function scratchName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

/** A schema of its own on the test PostgreSQL. */
export interface PostgresScratch {
  schema: string;
  /** Connects with the scratch schema as its search_path. */
  url: string;
  /** An admin connection for setup and checks. */
  admin: postgres.Sql;
  /** True while a backend with this pid exists. */
  backendExists(pid: number): Promise<boolean>;
  drop(): Promise<void>;
}

export async function createPostgresScratch(
  prefix = "deerflow_sql",
): Promise<PostgresScratch> {
  const schema = scratchName(prefix);
  const admin = postgres(POSTGRES_URL, { max: 2, onnotice: () => undefined });
  await admin.unsafe(`create schema ${schema}`);
  await admin.unsafe(`set search_path = ${schema}`);
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}search_path=${schema}`;
  return {
    schema,
    url,
    admin,
    async backendExists(pid) {
      const [row] = await admin.unsafe(
        "select count(*)::int as n from pg_stat_activity where pid = $1",
        [pid],
      );
      return Number(row?.n) > 0;
    },
    async drop() {
      try {
        await admin.unsafe(`drop schema if exists ${schema} cascade`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

/** A database of its own on the test MySQL/MariaDB. */
export interface MysqlScratch {
  database: string;
  url: string;
  /** An admin connection, already using the scratch database. */
  admin: mysql.Connection;
  /** True while a connection (thread) with this id exists. */
  connectionExists(id: number): Promise<boolean>;
  drop(): Promise<void>;
}

export async function createMysqlScratch(
  prefix = "deerflow_sql",
): Promise<MysqlScratch> {
  const database = scratchName(prefix);
  const admin = await mysql.createConnection({
    uri: MYSQL_URL,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  await admin.query(`create database ${database}`);
  await admin.query(`use ${database}`);
  return {
    database,
    url: `${MYSQL_URL.replace(/\/$/, "")}/${database}`,
    admin,
    async connectionExists(id) {
      const [rows] = await admin.execute(
        "select count(*) as n from information_schema.processlist where id = ?",
        [id],
      );
      return Number((rows as { n: string }[])[0]?.n) > 0;
    },
    async drop() {
      try {
        await admin.query(`drop database if exists ${database}`);
      } finally {
        await admin.end();
      }
    },
  };
}
