import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type JsonObject,
  NonRetryableError,
  pluginSdk,
  TaskError,
} from "../../plugin-sdk/index.js";
import { type PluginRun, runPlugin } from "../../plugin-sdk/testing.js";
import { pollUntil } from "../../test/support/poll-until.js";
import type { SqlConfig } from "./sql-config.js";
import { sqlPlugin } from "./sql-plugin.js";
import {
  createPostgresScratch,
  type PostgresScratch,
} from "./sql-test-databases.js";

const sql = sqlPlugin(pluginSdk);
let db: PostgresScratch;

beforeAll(async () => {
  db = await createPostgresScratch();
  await db.admin.unsafe(
    "create table items (id int primary key, name text not null)",
  );
  await db.admin.unsafe(
    "insert into items values (1, 'a'), (2, 'b'), (3, 'c')",
  );
});

afterAll(async () => {
  await db?.drop();
});

function run(
  config: Omit<SqlConfig, "connection"> & { connection?: string },
  params: JsonObject = {},
  more: {
    signal?: AbortSignal;
    onLine?: Parameters<typeof runPlugin>[1]["onLine"];
  } = {},
) {
  return runPlugin(sql, {
    config: { connection: db.url, ...config },
    params,
    templateContext: {
      params,
      tasks: {},
      run: { id: "run-1", name: "pg", started_at: "2026-01-01T00:00:00Z" },
      task: { id: "query", attempt: 1 },
    },
    ...more,
  });
}

function connectionId(result: PluginRun): number {
  const line = result.lines.find((l) => l.message === "connected");
  return Number(line?.fields?.connection_id);
}

/** Resolves once a backend runs a statement containing `marker`. */
function statementRunning(marker: string) {
  return pollUntil(async () => {
    const [row] = await db.admin.unsafe(
      "select count(*)::int as n from pg_stat_activity " +
        "where state = 'active' and position($1 in query) > 0 " +
        "and pid <> pg_backend_pid()",
      [marker],
    );
    return Number(row?.n) > 0 ? true : undefined;
  }, `a statement with ${marker} running`);
}

/** Resolves once no backend has this pid any more. */
function backendGone(pid: number) {
  return pollUntil(
    async () => ((await db.backendExists(pid)) ? undefined : true),
    `backend ${pid} gone`,
  );
}

describe("sql plugin on PostgreSQL", () => {
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
    expect(finished?.fields).toMatchObject({
      dialect: "postgres",
      row_count: 2,
    });
    expect(result.metrics.map((m) => m.name)).toEqual([
      "sql_statement_duration_ms",
      "sql_row_count",
    ]);
  });

  it("numbers templates after the author's own $n params", async () => {
    const result = await run(
      {
        query: "select $2::text as b, ${params.x}::text as t, $1::int as a;",
        params: [7, "two"],
      },
      { x: "tee" },
    );
    expect(result.output.rows).toEqual([{ b: "two", t: "tee", a: 7 }]);
  });

  it("counts affected rows of an insert, in a transaction", async () => {
    const result = await run({
      query: "insert into items values (10, 'x'), (11, 'y')",
      transaction: true,
    });
    expect(result.output).toMatchObject({
      row_count: 2,
      rows: [],
      columns: [],
    });
    const [row] = await db.admin.unsafe(
      "select count(*)::int as n from items where id >= 10",
    );
    expect(row?.n).toBe(2);
    await db.admin.unsafe("delete from items where id >= 10");
  });

  it("runs inside BEGIN/COMMIT only when asked", async () => {
    // VACUUM refuses to run inside a transaction block.
    const query = "vacuum items";
    const plain = await run({ query });
    const wrapped = await run({ query, transaction: true });
    expect(plain.outcome).toBe("success");
    expect(wrapped.error?.message).toBe(
      "SQL error (SQLSTATE 25001): VACUUM cannot run inside a transaction block",
    );
  });

  it("gives every value as JSON", async () => {
    const result = await run({
      query:
        "select 9007199254740993::bigint as big, 1.50::numeric as num, " +
        "'2024-01-02 03:04:05.678+00'::timestamptz as at, " +
        "'2024-01-02'::date as day, '\\xdeadbeef'::bytea as bytes, " +
        "'NaN'::float8 as nan, '{\"a\": [1]}'::jsonb as doc, " +
        "array[1, 2] as list, 'infinity'::timestamptz as forever, " +
        "'1 day'::interval as span, null::text as nothing, true as yes",
    });
    const [row] = result.output.rows as JsonObject[];
    expect(row).toEqual({
      big: "9007199254740993",
      num: "1.50",
      at: "2024-01-02T03:04:05.678Z",
      day: "2024-01-02T00:00:00.000Z",
      bytes: "3q2+7w==",
      nan: "NaN",
      doc: { a: [1] },
      list: [1, 2],
      forever: "Infinity",
      span: "1 day",
      nothing: null,
      yes: true,
    });
    expect(JSON.parse(JSON.stringify(result.output))).toEqual(result.output);
  });

  it("keeps max_rows rows and counts the rest", async () => {
    const query = "select x from generate_series(1, 50) as x";
    const capped = await run({ query, max_rows: 10 });
    expect(capped.output).toMatchObject({ row_count: 50, truncated: true });
    expect(capped.output.rows).toHaveLength(10);
    const unfetched = await run({ query, fetch_results: false });
    expect(unfetched.output).toEqual({ row_count: 50, columns: ["x"] });
  });

  it("stops a statement at statement_timeout on the server", async () => {
    const marker = "timeout_marker_pg";
    const result = await run({
      query: `select pg_sleep(60) /* ${marker} */`,
      statement_timeout: 0.3,
    });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryClass).toBe("timeout");
    expect(result.error?.message).toBe(
      "statement timed out after 0.3s (statement_timeout)",
    );
    await backendGone(connectionId(result));
    const inTransaction = await run({
      query: "select pg_sleep(60)",
      statement_timeout: 0.3,
      transaction: true,
    });
    expect(inTransaction.error?.retryClass).toBe("timeout");
  });

  it.each([false, true])(
    "cancels the running statement on the server and closes the session (transaction: %s)",
    async (transaction) => {
      const marker = `cancel_marker_pg_${transaction}`;
      const controller = new AbortController();
      const running = run(
        { query: `select pg_sleep(300) /* ${marker} */`, transaction },
        {},
        { signal: controller.signal },
      );
      await statementRunning(marker);
      controller.abort();
      const result = await running;
      expect(result.outcome).toBe("killed");
      expect(result.error?.message).toBe("statement was stopped (killed)");
      await backendGone(connectionId(result));
    },
  );

  it("fails a SQL error with its SQLSTATE, retrying only what may pass", async () => {
    const missing = await run({ query: "select * from no_such_table" });
    expect(missing.error).toBeInstanceOf(NonRetryableError);
    expect(missing.error?.message).toBe(
      'SQL error (SQLSTATE 42P01): relation "no_such_table" does not exist',
    );
    const conflict = await run({
      query:
        "do $$ begin raise exception 'try again' using errcode = '40001'; end $$",
    });
    expect(conflict.error).toBeInstanceOf(TaskError);
    expect(conflict.error?.retryable).toBe(true);
    expect(conflict.error?.message).toMatch(/SQLSTATE 40001/);
  });

  it("sends server notices to the log", async () => {
    const result = await run({
      query: "do $$ begin raise notice 'hello %', 42; end $$",
    });
    const notice = result.lines.find((l) => l.message === "server notice");
    expect(notice?.fields).toMatchObject({ message: "hello 42" });
  });

  it("refuses a second statement and leaves the table", async () => {
    const result = await run({ query: "select 1; drop table items" });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /^config\.query: holds more than one/,
    );
    const [row] = await db.admin.unsafe("select count(*)::int as n from items");
    expect(row?.n).toBe(3);
  });

  it("refuses a template inside quotes or one that does not evaluate", async () => {
    const quoted = await run(
      { query: "select * from items where name = '${params.n}'" },
      { n: "a" },
    );
    expect(quoted.error?.message).toMatch(
      /^config\.query: template #1 stands inside a string/,
    );
    const unknown = await run({ query: "select ${params.nope}" });
    expect(unknown.error).toBeInstanceOf(NonRetryableError);
    expect(unknown.error?.message).toMatch(/^config\.query/);
  });

  it("names config.connection for a bad URL", async () => {
    const result = await run({
      connection: "oracle://scott:tiger@127.0.0.1/db",
      query: "select 1",
    });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toBe(
      'config.connection: scheme "oracle" is not supported; use ' +
        "postgres://, postgresql://, mysql:// or mariadb://",
    );
  });

  it("never shows the password in errors or logs", async () => {
    const password = "hunter2-Secret";
    // Trust auth on this server ignores the password; it is still sent
    // nowhere else but the driver.
    const url = db.url.replace("postgres@", `postgres:${password}@`);
    const failed = await run({ connection: url, query: "select * from nope" });
    const closed = await closedPort();
    const unreachable = await run({
      connection: `postgres://u:${password}@127.0.0.1:${closed}/db`,
      query: "select 1",
    });
    expect(unreachable.error?.message).toMatch(
      /^cannot reach the database at 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    for (const result of [failed, unreachable]) {
      expect(result.error).toBeDefined();
      expect(JSON.stringify(result.error?.message)).not.toContain(password);
      expect(JSON.stringify(result.lines)).not.toContain(password);
    }
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string")
    throw new Error("no port");
  return address.port;
}
