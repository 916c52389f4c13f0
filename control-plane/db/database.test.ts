import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DIR_LOCK_FILE, silentLogger } from "../../core/index.js";
import {
  type TestDatabase,
  testBackends,
} from "../../test/support/test-database.js";
import { type Database, openDatabase } from "./database.js";

const [pglite] = testBackends();

describe("openDatabase on a PGlite data dir", () => {
  let created: TestDatabase;
  const opened: Database[] = [];
  const open = async () => {
    const database = await openDatabase({
      dataDir: created.dataDir,
      logger: silentLogger(),
    });
    opened.push(database);
    return database;
  };
  beforeEach(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    created = await pglite.create();
  });
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close();
    await created.drop();
  });

  it("names the dir and the flag when it cannot be made", async () => {
    await expect(
      openDatabase({ dataDir: "/proc/deerflow-data", logger: silentLogger() }),
    ).rejects.toThrow(
      /^data dir \/proc\/deerflow-data: cannot create it \(--data-dir\): ENOENT/,
    );
  });

  it("refuses a second opener while the first holds the dir", async () => {
    const first = await open();
    await expect(open()).rejects.toThrow(
      `data dir ${created.dataDir} is in use by process ${process.pid} (another deerflow server or dev?)`,
    );
    // The refused opener did not disturb the first.
    await first.db.execute(sql`SELECT 1`);
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const third = await open();
    await third.db.execute(sql`SELECT 1`);
  });

  it("takes over the dir of an owner that died without closing", async () => {
    const { pid } = spawnSync(process.execPath, ["-e", ""]);
    const lockPath = join(created.dataDir, DIR_LOCK_FILE);
    await writeFile(lockPath, `${pid}\n`);
    const database = await open();
    expect(await readFile(lockPath, "utf8")).toBe(
      `${process.pid}\n${hostname()}\n`,
    );
    await database.close();
    opened.splice(opened.indexOf(database), 1);
    await expect(readFile(lockPath)).rejects.toThrow(/ENOENT/);
  });
});

const postgresBackend = testBackends().find((b) => b.name === "postgres");

describe.runIf(postgresBackend)("openDatabase on PostgreSQL", () => {
  let created: TestDatabase;
  beforeEach(async () => {
    if (!postgresBackend) throw new Error("no PostgreSQL backend");
    created = await postgresBackend.create();
  });
  afterEach(async () => {
    delete process.env.DEERFLOW_DATABASE_PREPARE;
    await created.drop();
  });

  /** Runs a statement twice on one connection; how many it prepared. */
  async function preparedAfterUse(): Promise<number> {
    const database = await openDatabase({
      url: created.url,
      logger: silentLogger(),
      poolSize: 1,
    });
    try {
      for (const n of [1, 2]) {
        await database.db.execute(sql`SELECT ${n}::int AS n`);
      }
      const [row] = (await database.db.execute(
        sql`SELECT count(*)::int AS prepared FROM pg_prepared_statements`,
      )) as unknown as Array<{ prepared: number }>;
      return row?.prepared ?? -1;
    } finally {
      await database.close();
    }
  }

  it("prepares its statements, unless DEERFLOW_DATABASE_PREPARE=false", async () => {
    expect(await preparedAfterUse()).toBeGreaterThan(0);
    process.env.DEERFLOW_DATABASE_PREPARE = "false";
    expect(await preparedAfterUse()).toBe(0);
  });
});
