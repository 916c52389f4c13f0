import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import { rowsOf } from "../db/index.js";
import { start, task, useTestDatabase, workflow } from "../test-support.js";
import { appendRunEvents } from "./append-run-events.js";
import { settledEventFrontier } from "./event-frontier.js";

describe.each(testBackends())("settledEventFrontier on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("is the last event's number when no transaction is writing events", async () => {
    const signal = new AbortController().signal;
    expect(await settledEventFrontier(t.db, signal)).toBe(0);
    await start(t.db, workflow(task("a"), task("b")));
    const [last] = rowsOf<{ n: number }>(
      await t.db.execute(sql`SELECT max(sequence)::int AS n FROM run_events`),
    );
    expect(await settledEventFrontier(t.db, signal)).toBe(last?.n);
  });
});

describe.each(testBackends().filter((b) => b.name === "postgres"))(
  "settledEventFrontier under concurrency on $name",
  (backend) => {
    const t = useTestDatabase(backend);

    it("waits for a transaction writing events, and not for one that writes none", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      const other = await t.openAnother();
      const idle = await t.openAnother();
      const gate = () => {
        let open = () => {};
        const opened = new Promise<void>((resolve) => {
          open = resolve;
        });
        return { open, opened };
      };
      const wrote = gate();
      const endWriter = gate();
      const endIdler = gate();
      // Open all along, with a transaction id but no events: never waited for.
      const idling = idle.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_current_xact_id()`);
        await endIdler.opened;
      });
      const writing = other.db.transaction(async (tx) => {
        await appendRunEvents(tx, [{ runId, taskId: "a", state: "ASSIGNED" }]);
        wrote.open();
        await endWriter.opened;
      });
      try {
        await wrote.opened;
        let settled: number | undefined;
        const frontier = settledEventFrontier(
          t.db,
          new AbortController().signal,
        ).then((n) => {
          settled = n;
          return n;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBeUndefined();
        endWriter.open();
        await writing;
        const [last] = rowsOf<{ n: number }>(
          await t.db.execute(
            sql`SELECT max(sequence)::int AS n FROM run_events`,
          ),
        );
        expect(await frontier).toBe(last?.n);
      } finally {
        endWriter.open();
        endIdler.open();
        await Promise.all([writing, idling]);
      }
    });
    it("lets one caller give up the wait without ending another's", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      const other = await t.openAnother();
      let end = () => {};
      const ending = new Promise<void>((resolve) => {
        end = resolve;
      });
      let wrote = () => {};
      const didWrite = new Promise<void>((resolve) => {
        wrote = resolve;
      });
      const writing = other.db.transaction(async (tx) => {
        await appendRunEvents(tx, [{ runId, taskId: "a", state: "ASSIGNED" }]);
        wrote();
        await ending;
      });
      await didWrite;
      const leaving = new AbortController();
      const left = settledEventFrontier(t.db, leaving.signal);
      const staying = settledEventFrontier(t.db, new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      leaving.abort(new Error("gone"));
      await expect(left).rejects.toThrow("gone");
      end();
      await writing;
      const [last] = rowsOf<{ n: number }>(
        await t.db.execute(sql`SELECT max(sequence)::int AS n FROM run_events`),
      );
      expect(await staying).toBe(last?.n);
    });
    it("goes on past a writer left open, and says so", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      const other = await t.openAnother();
      let end = () => {};
      const ending = new Promise<void>((resolve) => {
        end = resolve;
      });
      let wrote = () => {};
      const didWrite = new Promise<void>((resolve) => {
        wrote = resolve;
      });
      const writing = other.db.transaction(async (tx) => {
        await appendRunEvents(tx, [{ runId, taskId: "a", state: "ASSIGNED" }]);
        wrote();
        await ending;
      });
      try {
        await didWrite;
        const warnings: unknown[] = [];
        const logger = { warn: (fields: unknown) => warnings.push(fields) };
        const frontier = await settledEventFrontier(
          t.db,
          new AbortController().signal,
          { logger: logger as unknown as Logger, maxWriterWaitMs: 200 },
        );
        const [last] = rowsOf<{ n: number }>(
          await t.db.execute(
            sql`SELECT last_value::int AS n FROM run_events_sequence_seq`,
          ),
        );
        expect(frontier).toBe(last?.n);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ up_to_sequence: last?.n });
      } finally {
        end();
        await writing;
      }
    });
  },
);
