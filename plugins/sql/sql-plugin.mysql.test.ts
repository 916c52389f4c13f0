import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type JsonObject,
  NonRetryableError,
  pluginSdk,
  TaskError,
} from "../../plugin-sdk/index.js";
import {
  type PluginRun,
  type RunPluginOptions,
  runPlugin,
} from "../../plugin-sdk/testing.js";
import { pollUntil } from "../../test/support/poll-until.js";
import type { SqlConfig } from "./sql-config.js";
import { createSqlPlugin, sqlPlugin } from "./sql-plugin.js";
import {
  createMysqlScratch,
  type MysqlScratch,
  scratchName,
} from "./sql-test-databases.js";

const sql = sqlPlugin(pluginSdk);
let db: MysqlScratch;

beforeAll(async () => {
  db = await createMysqlScratch();
  await db.admin.query(
    "create table items (id int primary key, name varchar(50) not null)",
  );
  await db.admin.query("insert into items values (1, 'a'), (2, 'b'), (3, 'c')");
});

afterAll(async () => {
  await db?.drop();
});

function run(
  config: Omit<SqlConfig, "connection"> & { connection?: string },
  params: JsonObject = {},
  more: Partial<RunPluginOptions<SqlConfig>> & { plugin?: typeof sql } = {},
) {
  const { plugin = sql, ...options } = more;
  return runPlugin(plugin, {
    config: { connection: db.url, ...config },
    params,
    templateContext: {
      params,
      tasks: {},
      run: { id: "run-1", name: "my", started_at: "2026-01-01T00:00:00Z" },
      task: { id: "query", attempt: 1 },
    },
    ...options,
  });
}

function connectionId(result: PluginRun): number {
  const line = result.lines.find((l) => l.message === "connected");
  return Number(line?.fields?.connection_id);
}

/** Resolves once a connection runs a statement containing `marker`. */
function statementRunning(marker: string) {
  return pollUntil(async () => {
    const [rows] = await db.admin.execute(
      "select count(*) as n from information_schema.processlist " +
        "where instr(info, ?) > 0 and id <> connection_id()",
      [marker],
    );
    return Number((rows as { n: string }[])[0]?.n) > 0 ? true : undefined;
  }, `a statement with ${marker} running`);
}

function connectionGone(id: number) {
  return pollUntil(
    async () => ((await db.connectionExists(id)) ? undefined : true),
    `connection ${id} gone`,
  );
}

describe("sql plugin on MariaDB", () => {
  it("returns rows, columns and the row count, with templates bound", async () => {
    const result = await run(
      {
        query: "select id, name from items where id <= ${params.n} order by id",
      },
      { n: 2 },
    );
    expect(result.error).toBeUndefined();
    expect(result.output).toEqual({
      rows: [
        { id: 1, name: "a" },
        { id: 2, name: "b" },
      ],
      row_count: 2,
      columns: ["id", "name"],
      truncated: false,
    });
    const finished = result.lines.find(
      (l) => l.message === "statement finished",
    );
    expect(finished?.fields).toMatchObject({ dialect: "mysql", row_count: 2 });
  });

  it("orders the author's ? params and the templates as they stand", async () => {
    const result = await run(
      {
        query: "select ? as a, ${params.x} as t, ? as b",
        params: ["one", "two"],
      },
      { x: "tee" },
    );
    expect(result.output.rows).toEqual([{ a: "one", t: "tee", b: "two" }]);
  });

  it("counts affected rows and commits a transaction", async () => {
    const result = await run({
      query: "insert into items values (10, 'x'), (11, 'y');",
      transaction: true,
    });
    expect(result.output).toMatchObject({
      row_count: 2,
      rows: [],
      columns: [],
    });
    const [rows] = await db.admin.query(
      "select count(*) as n from items where id >= 10",
    );
    expect((rows as { n: string }[])[0]?.n).toBe("2");
    await db.admin.query("delete from items where id >= 10");
  });

  it("runs inside START TRANSACTION only when asked", async () => {
    const query = "select @@in_transaction as open";
    expect((await run({ query })).output.rows).toEqual([{ open: "0" }]);
    expect((await run({ query, transaction: true })).output.rows).toEqual([
      { open: "1" },
    ]);
  });

  it("gives every value as JSON", async () => {
    const result = await run({
      query:
        "select cast(9007199254740993 as signed) as big, 1.50 as num, " +
        "timestamp '2024-01-02 03:04:05.678' as at, date '2024-01-02' as day, " +
        "x'deadbeef' as bytes, json_object('a', json_array(1)) as doc, " +
        "cast(0.5 as double) as half, null as nothing",
    });
    const [row] = result.output.rows as JsonObject[];
    expect(row).toEqual({
      big: "9007199254740993",
      num: "1.50",
      at: "2024-01-02T03:04:05.678Z",
      day: "2024-01-02T00:00:00.000Z",
      bytes: "3q2+7w==",
      doc: { a: [1] },
      half: 0.5,
      nothing: null,
    });
  });

  it("keeps max_rows rows and counts the rest", async () => {
    const query =
      "with recursive s (x) as (select 1 union all select x + 1 from s " +
      "where x < 50) select x from s";
    const capped = await run({ query, max_rows: 10 });
    expect(capped.output).toMatchObject({ row_count: 50, truncated: true });
    expect(capped.output.rows).toHaveLength(10);
    const unfetched = await run({ query, fetch_results: false });
    expect(unfetched.output).toEqual({ row_count: 50, columns: ["x"] });
  });

  it("stops a statement at statement_timeout with KILL QUERY", async () => {
    const result = await run({
      query: "select sleep(60) as slept",
      statement_timeout: 0.3,
    });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryClass).toBe("timeout");
    expect(result.lines.map((l) => l.message)).toContain("statement killed");
    await connectionGone(connectionId(result));
  });

  it.each([false, true])(
    "kills the running statement on cancel and closes the connection (transaction: %s)",
    async (transaction) => {
      const marker = scratchName("cancel_marker");
      const controller = new AbortController();
      const running = run(
        { query: `select sleep(300), '${marker}' as marker`, transaction },
        {},
        { signal: controller.signal },
      );
      await statementRunning(marker);
      controller.abort();
      const result = await running;
      expect(result.outcome).toBe("killed");
      expect(result.error?.message).toBe("statement was stopped (killed)");
      await connectionGone(connectionId(result));
    },
  );

  it("returns at once when the grace runs out, cutting the connection", async () => {
    // A 1 ms grace cuts the connection before KILL QUERY has even landed.
    const impatient = createSqlPlugin({ cancelGraceMs: 1 })(pluginSdk);
    const marker = scratchName("grace_marker");
    const controller = new AbortController();
    const running = run(
      { query: `select sleep(300), '${marker}' as marker` },
      {},
      { signal: controller.signal, plugin: impatient },
    );
    await statementRunning(marker);
    controller.abort();
    const result = await running;
    expect(result.outcome).toBe("killed");
    await connectionGone(connectionId(result));
  });

  it("fails a SQL error with errno and SQLSTATE", async () => {
    const missing = await run({ query: "select * from no_such_table" });
    expect(missing.error).toBeInstanceOf(NonRetryableError);
    expect(missing.error?.message).toBe(
      `SQL error (errno 1146, SQLSTATE 42S02): Table '${db.database}.` +
        "no_such_table' doesn't exist",
    );
    const conflict = await run({
      query: "signal sqlstate '40001' set message_text = 'try again'",
    });
    expect(conflict.error).toBeInstanceOf(TaskError);
    expect(conflict.error?.retryable).toBe(true);
    expect(conflict.error?.message).toMatch(/SQLSTATE 40001\): try again/);
  });

  it("refuses a second statement and leaves the table", async () => {
    const result = await run({ query: "select 1; drop table items" });
    expect(result.error?.message).toMatch(
      /^config\.query: holds more than one/,
    );
    const [rows] = await db.admin.query("select count(*) as n from items");
    expect((rows as { n: string }[])[0]?.n).toBe("3");
  });

  it("refuses URL options it does not know", async () => {
    const result = await run({
      connection: `${db.url}?multipleStatements=true`,
      query: "select 1",
    });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /^config\.connection: query parameter "multipleStatements"/,
    );
  });

  it("logs in with a password and never shows it", async () => {
    // A user for this test only, with access to the scratch database.
    const user = scratchName("deerflow_u");
    const password = "p@ss:w/rd?#Secret";
    await db.admin.query(`create user '${user}'@'127.0.0.1' identified by ?`, [
      password,
    ]);
    try {
      await db.admin.query(
        `grant all on ${db.database}.* to '${user}'@'127.0.0.1'`,
      );
      const base = `mysql://${user}:${encodeURIComponent(password)}@127.0.0.1:3306/${db.database}`;
      const ok = await run({
        connection: base,
        query: "select substring_index(current_user(), '@', 1) as who",
      });
      expect(ok.output.rows).toEqual([{ who: user }]);
      const wrong = await run({
        connection: base.replace("Secret", "Wrong"),
        query: "select 1",
      });
      expect(wrong.error?.message).toMatch(/errno 1045, SQLSTATE 28000/);
      const failed = await run({
        connection: base,
        query: "select * from nope",
      });
      for (const result of [ok, wrong, failed]) {
        const seen = JSON.stringify([result.error?.message, result.lines]);
        expect(seen).not.toContain("Secret");
        expect(seen).not.toContain(encodeURIComponent(password));
      }
    } finally {
      await db.admin.query(`drop user '${user}'@'127.0.0.1'`);
    }
  });
});
