import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DIR_LOCK_FILE, silentLogger } from "../../core/index.js";
import {
  type TestDatabase,
  testBackends,
} from "../../test/support/test-database.js";
import { Pipelined } from "../scheduler/pipelined.js";
import {
  commitFollowsStatements,
  type Database,
  listenBackoffSeconds,
  openDatabase,
} from "./database.js";
import {
  eagerTransaction,
  TransactionRolledBackError,
} from "./eager-transaction.js";

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

  it("waits for a transaction's statements before its COMMIT", async () => {
    expect(commitFollowsStatements((await open()).db)).toBe(false);
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

  describe("a transaction (BEGIN sent with its first statement)", () => {
    let database: Database;
    beforeEach(async () => {
      database = await openDatabase({
        url: created.url,
        logger: silentLogger(),
        poolSize: 2,
      });
      await database.db.execute(sql`CREATE TABLE notes (body text NOT NULL)`);
    });
    afterEach(async () => {
      await database.close();
    });
    const bodies = async () =>
      (
        (await database.db.execute(
          sql`SELECT body FROM notes ORDER BY body`,
        )) as unknown as Array<{ body: string }>
      ).map((row) => row.body);

    it("runs its statements in one transaction and commits them", async () => {
      const ids = await database.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO notes VALUES ('a')`);
        const first = await tx.execute(sql`SELECT txid_current() AS id`);
        await tx.execute(sql`INSERT INTO notes VALUES ('b')`);
        const second = await tx.execute(sql`SELECT txid_current() AS id`);
        return [first, second].map(
          (rows) => (rows as unknown as Array<{ id: string }>)[0]?.id,
        );
      });
      expect(ids[0]).toBeDefined();
      expect(ids[0]).toBe(ids[1]);
      expect(await bodies()).toEqual(["a", "b"]);
    });

    it("rolls back when the callback throws, and frees the connection", async () => {
      for (let i = 0; i < 3; i++) {
        await expect(
          database.db.transaction(async (tx) => {
            await tx.execute(sql`INSERT INTO notes VALUES ('lost')`);
            throw new Error("callback failed");
          }),
        ).rejects.toThrow("callback failed");
      }
      expect(await bodies()).toEqual([]);
    });

    it("throws a failed statement's error, and keeps nothing of it", async () => {
      await expect(
        database.db.transaction(async (tx) => {
          await tx.execute(sql`INSERT INTO notes VALUES ('lost')`);
          await tx.execute(sql`INSERT INTO notes VALUES (NULL)`);
        }),
      ).rejects.toThrow(/^Failed query: INSERT INTO notes VALUES \(NULL\)/);
      expect(await bodies()).toEqual([]);
    });

    it("commits behind statements still unanswered, and keeps them", async () => {
      expect(commitFollowsStatements(database.db)).toBe(true);
      const { last } = await database.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO notes VALUES ('a')`);
        // Not awaited: COMMIT goes out behind it, in its round trip.
        const writes = new Pipelined();
        writes.send(tx.execute(sql`INSERT INTO notes VALUES ('b')`));
        const last = writes.done();
        last.catch(() => {});
        return { last };
      });
      await last;
      expect(await bodies()).toEqual(["a", "b"]);
    });

    it("refuses to commit after a statement failed unawaited", async () => {
      await expect(
        database.db.transaction(async (tx) => {
          await tx.execute(sql`INSERT INTO notes VALUES ('lost')`);
          tx.execute(sql`INSERT INTO notes VALUES (NULL)`).catch(() => {});
        }),
      ).rejects.toThrow(TransactionRolledBackError);
      expect(await bodies()).toEqual([]);
    });

    it("runs transactions side by side on their own connections", async () => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first = database.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO notes VALUES ('first')`);
        await released;
      });
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO notes VALUES ('second')`);
      });
      // The first is not committed yet: the second did not see nor wait for it.
      expect(await bodies()).toEqual(["second"]);
      release();
      await first;
      expect(await bodies()).toEqual(["first", "second"]);
    });
  });

  describe("eagerTransaction on a connection closed after its reserve", () => {
    it("fails, rather than waiting for ever on the first batch", async () => {
      const client = postgres(created.url ?? "", {
        max: 1,
        onnotice: () => {},
      });
      const admin = postgres(created.url ?? "", { max: 1, onnotice: () => {} });
      try {
        // One connection: the transaction reserves the one asked here.
        const [row] = await client`SELECT pg_backend_pid() AS pid`;
        const attempt = eagerTransaction(client, async (tx) => {
          // Its backend is terminated (a failover, an administrator)
          // before the transaction's first statement goes out.
          await admin`SELECT pg_terminate_backend(${row?.pid})`;
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx`SELECT 1`;
        });
        await expect(attempt).rejects.toThrow();
        // The pool connects anew.
        const [after] = await client`SELECT 1 AS one`;
        expect(after?.one).toBe(1);
      } finally {
        await admin.end();
        await client.end();
      }
    });
  });

  describe("eagerTransaction when BEGIN itself fails", () => {
    it("runs none of the statements sent behind it", async () => {
      const client = postgres(created.url ?? "", {
        max: 1,
        onnotice: () => {},
      });
      try {
        await client`CREATE TABLE notes (body text NOT NULL)`;
        // A client whose BEGIN fails, as one hit by a cancel request
        // does, while its connection lives on.
        const failingBegin = new Proxy(client, {
          get(target, key, receiver) {
            if (key !== "reserve") return Reflect.get(target, key, receiver);
            return async () => {
              const reserved = await target.reserve();
              return new Proxy(reserved, {
                get(inner, name, innerReceiver) {
                  const value = Reflect.get(inner, name, innerReceiver);
                  if (name !== "unsafe") return value;
                  return (query: string, ...rest: unknown[]) =>
                    (value as (...a: unknown[]) => unknown).call(
                      inner,
                      query === "begin" ? "begin isolation level never" : query,
                      ...rest,
                    );
                },
              });
            };
          },
        });
        await expect(
          eagerTransaction(failingBegin, async (tx) => {
            await Promise.all([
              tx`INSERT INTO notes VALUES ('first')`,
              tx`INSERT INTO notes VALUES ('second')`,
            ]);
            await tx`INSERT INTO notes VALUES ('third')`;
          }),
        ).rejects.toThrow(/syntax error/);
        expect(await client`SELECT body FROM notes`).toHaveLength(0);
        // The connection went back to the pool usable, and idle.
        const [row] = await client`SELECT 1 AS one`;
        expect(row?.one).toBe(1);
      } finally {
        await client.end();
      }
    });
  });
});

describe("listenBackoffSeconds", () => {
  it("listens again within a second however long the database was out", () => {
    expect([1, 2, 3, 4, 5, 10, 100].map(listenBackoffSeconds)).toEqual([
      0.1, 0.2, 0.4, 0.8, 1, 1, 1,
    ]);
  });
});
