/**
 * Values never change the statement they land in (issue 4, item 3): each
 * hostile value goes through a template into a real PostgreSQL and a
 * real MariaDB. A lookup by it finds nothing, an insert of it stores it
 * byte for byte, and the table survives.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JsonObject, pluginSdk } from "../../plugin-sdk/index.js";
import { runPlugin } from "../../plugin-sdk/testing.js";
import { sqlPlugin } from "./sql-plugin.js";
import {
  createMysqlScratch,
  createPostgresScratch,
} from "./sql-test-databases.js";

const HOSTILE: string[] = [
  "' OR 1=1 --",
  "' OR '1'='1",
  "'; DROP TABLE victims; --",
  "\\'; DROP TABLE victims; -- ",
  '"; DROP TABLE victims; --',
  "`; DROP TABLE victims; --",
  "1 OR 1=1",
  "1; DELETE FROM victims",
  "$1",
  "$2::text",
  "?",
  "?, ?",
  "$$; DROP TABLE victims; $$",
  "\\",
  "\\\\'",
  "'",
  '"',
  "''",
  "`",
  "*/ DROP TABLE victims; /*",
  "-- ",
  "# comment",
  "line one\nline two\r\n; DROP TABLE victims",
  "$(touch /tmp/deerflow-pwned)",
  "`id`",
  "a\u0000b",
  "ünïcødé 😀 \u202e ﷽",
  "${params.other}",
  "$${params.other}",
];

/** What the test needs from one database. */
interface Victim {
  url: string;
  /** PostgreSQL text cannot hold NUL: the server refuses it (22021). */
  refusesNul: boolean;
  nameOf(id: number): Promise<string | undefined>;
  rowCount(): Promise<number>;
  drop(): Promise<void>;
}

async function postgresVictim(): Promise<Victim> {
  const db = await createPostgresScratch("deerflow_sql_hostile");
  await db.admin.unsafe("create table victims (id int primary key, name text)");
  await db.admin.unsafe("insert into victims values (0, 'seed')");
  return {
    url: db.url,
    refusesNul: true,
    async nameOf(id) {
      const [row] = await db.admin.unsafe(
        "select name from victims where id = $1",
        [id],
      );
      return row?.name;
    },
    async rowCount() {
      const [row] = await db.admin.unsafe(
        "select count(*)::int as n from victims",
      );
      return Number(row?.n);
    },
    drop: () => db.drop(),
  };
}

async function mysqlVictim(): Promise<Victim> {
  const db = await createMysqlScratch("deerflow_sql_hostile");
  await db.admin.query(
    "create table victims (id int primary key, name varchar(200) " +
      "character set utf8mb4 collate utf8mb4_bin)",
  );
  await db.admin.query("insert into victims values (0, 'seed')");
  return {
    url: db.url,
    refusesNul: false,
    async nameOf(id) {
      const [rows] = await db.admin.execute(
        "select name from victims where id = ?",
        [id],
      );
      return (rows as { name: string }[])[0]?.name;
    },
    async rowCount() {
      const [rows] = await db.admin.query("select count(*) as n from victims");
      return Number((rows as { n: string }[])[0]?.n);
    },
    drop: () => db.drop(),
  };
}

const plugin = sqlPlugin(pluginSdk);

function run(url: string, query: string, params: JsonObject) {
  return runPlugin(plugin, {
    config: { connection: url, query },
    params,
    templateContext: {
      params,
      tasks: {},
      run: { id: "run-h", name: "hostile", started_at: "2026-01-01T00:00:00Z" },
      task: { id: "t", attempt: 1 },
    },
  });
}

describe.each([
  ["PostgreSQL", postgresVictim],
  ["MariaDB", mysqlVictim],
])("hostile values on %s", (_name, open) => {
  let victim: Victim;
  let inserted = 0;

  beforeAll(async () => {
    victim = await open();
  });

  afterAll(async () => {
    await victim?.drop();
  });

  it.each(HOSTILE.map((value, i) => [JSON.stringify(value), value, i + 1]))(
    "%s cannot change the statement",
    async (_label, value, id) => {
      const params = { name: value, v: value, id, other: "expanded!" };
      const nul = value.includes("\u0000") && victim.refusesNul;
      const lookup = await run(
        victim.url,
        "select count(*) as n from victims where name = ${params.name}",
        params,
      );
      const insert = await run(
        victim.url,
        "insert into victims (id, name) values (${params.id}, ${params.v})",
        params,
      );
      if (nul) {
        expect(lookup.error?.message).toMatch(/SQLSTATE 22021/);
        expect(insert.error?.message).toMatch(/SQLSTATE 22021/);
      } else {
        expect(lookup.error).toBeUndefined();
        expect(lookup.output.rows).toEqual([{ n: "0" }]);
        expect(insert.output.row_count).toBe(1);
        expect(await victim.nameOf(id)).toBe(value);
        inserted += 1;
      }
      expect(await victim.rowCount()).toBe(1 + inserted);
    },
  );
});
