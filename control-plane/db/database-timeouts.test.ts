import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../core/index.js";
import { pollUntil } from "../../test/support/poll-until.js";
import {
  type TestDatabase,
  testBackends,
} from "../../test/support/test-database.js";
import { sqlState, toConnectError } from "../api/connect-errors.js";
import {
  type Database,
  MIGRATION_LOCK_KEY,
  openDatabase,
  rowsOf,
} from "./database.js";

const postgresBackend = testBackends().find((b) => b.name === "postgres");

describe.runIf(postgresBackend)("openDatabase's timeouts on PostgreSQL", () => {
  let created: TestDatabase;
  /** The test's own connection to the same database, as an onlooker. */
  let onlooker: postgres.Sql;
  let database: Database | undefined;

  beforeEach(async () => {
    if (!postgresBackend) throw new Error("no PostgreSQL backend");
    created = await postgresBackend.create();
    onlooker = postgres(created.url ?? "", { max: 1, onnotice: () => {} });
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
    await onlooker.end();
    await created.drop();
  });

  const open = async (timeouts: {
    statementTimeoutMs?: number;
    idleInTransactionTimeoutMs?: number;
  }) => {
    database = await openDatabase({
      url: created.url,
      logger: silentLogger(),
      poolSize: 1,
      ...timeouts,
    });
    return database;
  };

  it("cancels a statement that runs past statementTimeoutMs, and goes on serving", async () => {
    const { db } = await open({ statementTimeoutMs: 300 });
    const error = await db.execute(sql`SELECT pg_sleep(10)`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(sqlState(error)).toBe("57014");
    expect(String((error as Error).cause)).toMatch(/statement timeout/);
    const [row] = rowsOf<{ n: number }>(await db.execute(sql`SELECT 1 AS n`));
    expect(row?.n).toBe(1);
  });

  it("ends a session whose transaction idles past idleInTransactionTimeoutMs", async () => {
    const { db } = await open({ idleInTransactionTimeoutMs: 300 });
    const outcome = await db
      .transaction(async (tx) => {
        const [row] = rowsOf<{ pid: number }>(
          await tx.execute(sql`SELECT pg_backend_pid() AS pid`),
        );
        // The server ends the idle session: its backend goes away.
        await pollUntil(async () => {
          const alive = await onlooker`
            SELECT 1 FROM pg_stat_activity WHERE pid = ${row?.pid ?? 0}`;
          return alive.length === 0 ? true : undefined;
        }, "the idle transaction's session ended");
        await tx.execute(sql`SELECT 1`);
      })
      .then(
        () => "committed",
        (e: unknown) => e,
      );
    // Callers are told to try again.
    expect(toConnectError(outcome).code).toBe(Code.Unavailable);
  });

  it("migrates without the statement timeout, waiting out another replica's migration", async () => {
    // The database's own setting would cut the wait short too.
    await onlooker.unsafe(
      `ALTER DATABASE ${new URL(created.url ?? "").pathname.slice(1)} SET statement_timeout = 300`,
    );
    const other = postgres(created.url ?? "", { max: 1, onnotice: () => {} });
    try {
      await other`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()})`;
      let failed: unknown;
      const opening = open({ statementTimeoutMs: 300 });
      opening.catch((error: unknown) => {
        failed = error ?? "failed";
      });
      await pollUntil(async () => {
        if (failed !== undefined) throw failed;
        const waiting = await onlooker`
          SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'
            AND now() - query_start > interval '1 second'`;
        return waiting.length > 0 ? true : undefined;
      }, "a migration waiting on the lock for longer than the timeout");
      await other`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()})`;
      const { db } = await opening;
      const [row] = rowsOf<{ timeout: string }>(
        await db.execute(
          sql`SELECT current_setting('statement_timeout') AS timeout`,
        ),
      );
      expect(row?.timeout).toBe("300ms");
    } finally {
      await other.end();
    }
  });
});
