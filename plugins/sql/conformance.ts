/**
 * The sql plugin's cases for the shared conformance suite, on the real
 * PostgreSQL of this machine (see sql-test-databases.ts for how to point
 * it elsewhere). It makes a scratch schema and drops it in `dispose`.
 */
import type { ConformanceCases } from "../../plugin-sdk/conformance.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { createPostgresScratch, scratchName } from "./sql-test-databases.js";

/** Prepares the cases; `dispose` drops what they used. */
export async function sqlConformance(): Promise<{
  cases: ConformanceCases;
  dispose(): Promise<void>;
}> {
  const db = await createPostgresScratch("deerflow_sql_conformance");
  await db.admin.unsafe("create table items (id int primary key, name text)");
  await db.admin.unsafe("insert into items values (1, 'a'), (2, 'b')");
  const marker = scratchName("conformance_sleep");
  const connection = db.url;
  const cases: ConformanceCases = {
    success: {
      config: {
        connection,
        query: "select id, name from items where id <= ${params.n}",
      },
      params: { n: 1 },
      check(run) {
        const want = JSON.stringify([{ id: 1, name: "a" }]);
        if (JSON.stringify(run.output.rows) !== want) {
          throw new Error(
            `rows ${JSON.stringify(run.output.rows)}, want ${want}`,
          );
        }
      },
    },
    failure: { config: { connection, query: "select * from no_such_table" } },
    longRunning: {
      config: { connection, query: `select pg_sleep(300) /* ${marker} */` },
      started: (line) => line.message === "statement started",
      // Gone from pg_stat_activity: not running, and its session closed.
      async stopped() {
        const [row] = await db.admin.unsafe(
          "select count(*)::int as n from pg_stat_activity " +
            "where position($1 in query) > 0 and pid <> pg_backend_pid()",
          [marker],
        );
        return Number(row?.n) === 0;
      },
    },
    invalidConfigs: invalidConfigs(connection),
  };
  return { cases, dispose: () => db.drop() };
}

function invalidConfigs(
  connection: string,
): ConformanceCases["invalidConfigs"] {
  const base: JsonObject = { connection, query: "select 1" };
  return [
    { config: { query: "select 1" }, field: "config.connection" },
    {
      config: { ...base, connection: "http://db.invalid/x" },
      field: "config.connection",
    },
    { config: { ...base, query: "" }, field: "config.query" },
    { config: { ...base, params: { a: 1 } }, field: "config.params" },
    {
      config: { ...base, fetch_results: "yes" },
      field: "config.fetch_results",
    },
    { config: { ...base, max_rows: -1 }, field: "config.max_rows" },
    { config: { ...base, max_rows: 1.5 }, field: "config.max_rows" },
    {
      config: { ...base, statement_timeout: 0 },
      field: "config.statement_timeout",
    },
    { config: { ...base, transaction: 1 }, field: "config.transaction" },
    { config: { ...base, sql: "select 1" }, field: "config.sql" },
  ];
}
