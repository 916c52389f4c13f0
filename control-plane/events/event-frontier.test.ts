import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import { type Db, EVENT_NUMBERS_PER_BATCH, rowsOf } from "../db/index.js";
import {
  openTransaction,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { appendRunEvents } from "./append-run-events.js";
import { settledEventFrontier } from "./event-frontier.js";

/** The last number the last batch of events stored can hold. */
async function lastEventNumber(db: Db): Promise<number | undefined> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(
      sql`SELECT max(sequence)::int AS n FROM run_event_batches`,
    ),
  );
  return row === undefined ? undefined : batchCeiling(row.n);
}

/** The highest event number batch `n` can hold. */
function batchCeiling(n: number): number {
  return (n + 1) * EVENT_NUMBERS_PER_BATCH - 1;
}

const never = () => new AbortController().signal;

describe.each(testBackends())("settledEventFrontier on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("is the last event's number when no transaction is writing events", async () => {
    expect(await settledEventFrontier(t.db, never())).toBe(0);
    await start(t.db, workflow(task("a"), task("b")));
    expect(await settledEventFrontier(t.db, never())).toBe(
      await lastEventNumber(t.db),
    );
  });
});

describe.each(testBackends().filter((b) => b.name === "postgres"))(
  "settledEventFrontier under concurrency on $name",
  (backend) => {
    const t = useTestDatabase(backend);

    /** A transaction on another handle that wrote one of the run's events. */
    async function openEventWriter() {
      const { runId } = await start(t.db, workflow(task("a")));
      return openTransaction(await t.openAnother(), (tx) =>
        appendRunEvents(tx, [{ runId, taskId: "a", state: "ASSIGNED" }]),
      );
    }

    it("waits for a transaction writing events, and not for one that writes none", async () => {
      // Open all along, with a transaction id but no events: never waited for.
      const idler = await openTransaction(await t.openAnother(), (tx) =>
        tx.execute(sql`SELECT pg_current_xact_id()`),
      );
      const writer = await openEventWriter();
      try {
        let settled: number | undefined;
        const frontier = settledEventFrontier(t.db, never()).then((n) => {
          settled = n;
          return n;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBeUndefined();
        await writer.end();
        expect(await frontier).toBe(await lastEventNumber(t.db));
      } finally {
        await writer.end();
        await idler.end();
      }
    });

    it("lets one caller give up the wait without ending another's", async () => {
      const writer = await openEventWriter();
      try {
        const leaving = new AbortController();
        const left = settledEventFrontier(t.db, leaving.signal);
        const staying = settledEventFrontier(t.db, never());
        await new Promise((resolve) => setTimeout(resolve, 100));
        leaving.abort(new Error("gone"));
        await expect(left).rejects.toThrow("gone");
        await writer.end();
        expect(await staying).toBe(await lastEventNumber(t.db));
      } finally {
        await writer.end();
      }
    });

    it("goes on past a writer left open, and says so", async () => {
      const writer = await openEventWriter();
      try {
        const warnings: unknown[] = [];
        const logger = { warn: (fields: unknown) => warnings.push(fields) };
        const frontier = await settledEventFrontier(t.db, never(), {
          logger: logger as unknown as Logger,
          maxWriterWaitMs: 200,
        });
        // The writer's uncommitted batch is numbered, but not yet seen.
        const [sequence] = rowsOf<{ n: number }>(
          await t.db.execute(
            sql`SELECT last_value::int AS n FROM run_event_batches_sequence_seq`,
          ),
        );
        const upTo = batchCeiling(sequence?.n ?? 0);
        expect(frontier).toBe(upTo);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ up_to_sequence: upTo });
      } finally {
        await writer.end();
      }
    });
  },
);
