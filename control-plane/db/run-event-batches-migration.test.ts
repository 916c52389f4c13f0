import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import { settledEventFrontier } from "../events/event-frontier.js";
import { history } from "../test-support.js";
import { type Database, openDatabase, rowsOf } from "./index.js";

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));
const RUN = "00000000-0000-4000-8000-000000000001";
const OTHER_RUN = "00000000-0000-4000-8000-000000000002";

/** The migrations folder as it stood before 0016, in a temporary copy. */
async function migrationsBefore0016(root: string): Promise<string> {
  const folder = join(root, "migrations");
  await cp(MIGRATIONS, folder, { recursive: true });
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8")) as {
    entries: { tag: string }[];
  };
  journal.entries = journal.entries.filter((e) => e.tag < "0016");
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

/** Events as a 0015 database stored them: one row each. */
const OLD_EVENTS = sql`
  INSERT INTO run_events (run_id, task_id, state, attempt, agent_id, error)
  VALUES (${RUN}, '', 'PENDING', 0, '', ''),
    (${RUN}, 'a', 'QUEUED', 0, '', ''),
    (${OTHER_RUN}, 'x', 'QUEUED', 0, '', ''),
    (${RUN}, 'a', 'FAILED', 1, 'agent-1', 'exit 3')`;

describe.each(testBackends())(
  "migration 0016 (run event batches) on $name",
  (backend) => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const step of cleanup.reverse()) await step();
      cleanup.length = 0;
    });

    /** A database migrated to 0015 holding OLD_EVENTS, then opened. */
    async function upgradedFrom0015(): Promise<Database> {
      const root = await mkdtemp(join(tmpdir(), "deerflow-migration-"));
      cleanup.push(() => rm(root, { recursive: true, force: true }));
      const migrationsFolder = await migrationsBefore0016(root);
      const created = await backend.create();
      cleanup.push(() => created.drop());
      const dataDir = join(root, "data");
      if (created.url === undefined) {
        const client = await PGlite.create(dataDir);
        const db = drizzlePglite({ client });
        await migratePglite(db, { migrationsFolder });
        await db.execute(OLD_EVENTS);
        await client.close();
      } else {
        const client = postgres(created.url, { max: 1, onnotice: () => {} });
        const db = drizzlePostgres({ client });
        await migratePostgres(db, { migrationsFolder });
        await db.execute(OLD_EVENTS);
        await client.end();
      }
      const opened = await openDatabase({
        url: created.url,
        dataDir,
        logger: silentLogger(),
      });
      cleanup.push(() => opened.close());
      return opened;
    }

    it("keeps every stored event, in order, each numbered ten thousand times its old number", async () => {
      const { db } = await upgradedFrom0015();
      const events = rowsOf<{
        sequence: number;
        task_id: string;
        state: string;
        attempt: number;
        agent_id: string;
        error: string;
      }>(
        await db.execute(sql`
          SELECT sequence::int, task_id, state, attempt, agent_id, error
          FROM run_events WHERE run_id = ${RUN} ORDER BY sequence`),
      );
      expect(events).toEqual([
        {
          sequence: 10_000,
          task_id: "",
          state: "PENDING",
          attempt: 0,
          agent_id: "",
          error: "",
        },
        {
          sequence: 20_000,
          task_id: "a",
          state: "QUEUED",
          attempt: 0,
          agent_id: "",
          error: "",
        },
        {
          sequence: 40_000,
          task_id: "a",
          state: "FAILED",
          attempt: 1,
          agent_id: "agent-1",
          error: "exit 3",
        },
      ]);
    });

    it("sets the watch frontier past the old events at once", async () => {
      const { db } = await upgradedFrom0015();
      // Nothing written since the upgrade: a watch must still see them.
      expect(
        await settledEventFrontier(db, new AbortController().signal),
      ).toBeGreaterThanOrEqual(40_000);
    });

    it("numbers new events after the old ones", async () => {
      const { db } = await upgradedFrom0015();
      await db.execute(sql`
        INSERT INTO run_event_batches (run_id, task_ids, states, attempts,
          agent_ids, errors)
        VALUES (${RUN}, '{a}', '{QUEUED}', '{0}', '{""}', '{""}')`);
      expect(await history(db, RUN)).toEqual([
        "run:PENDING",
        "a:QUEUED",
        "a:FAILED",
        "a:QUEUED",
      ]);
    });
  },
);
