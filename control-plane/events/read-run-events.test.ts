import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import type { Db } from "../db/index.js";
import { start, task, useTestDatabase, workflow } from "../test-support.js";
import { appendRunEvents } from "./append-run-events.js";
import { eventPage, runChangedAfter } from "./read-run-events.js";

/** Appends `batches` batches of `size` NOTE events to the run. */
async function appendBatches(
  db: Db,
  runId: string,
  batches: number,
  size: number,
): Promise<void> {
  for (let b = 0; b < batches; b++) {
    await appendRunEvents(
      db,
      Array.from({ length: size }, (_, i) => ({
        runId,
        taskId: `b${b}-${i}`,
        state: "NOTE",
      })),
    );
  }
}

describe.each(testBackends())("reading run events on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("pages through a long history in order, across batches", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    await appendBatches(t.db, runId, 4, 300);
    const seen: string[] = [];
    let after = 0;
    for (;;) {
      const page = await eventPage(
        t.db,
        runId,
        after,
        Number.MAX_SAFE_INTEGER,
        250,
      );
      if (page.length === 0) break;
      for (const event of page) {
        expect(event.sequence).toBeGreaterThan(after);
        after = event.sequence;
        seen.push(event.taskId);
      }
    }
    const notes = seen.filter((id) => id.startsWith("b"));
    expect(notes).toEqual(
      Array.from({ length: 4 }, (_, b) =>
        Array.from({ length: 300 }, (_, i) => `b${b}-${i}`),
      ).flat(),
    );
  });

  it("reads a page of whole batches, as many as asked at most", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    await appendBatches(t.db, runId, 30, 100);
    const page = await eventPage(t.db, runId, 0, Number.MAX_SAFE_INTEGER, 5);
    // The run's own first batches (its start's events), then whole
    // batches of 100 notes, five batches in all.
    const batches = new Set(page.map((e) => e.batch));
    const startBatches = new Set(
      page.filter((e) => e.state !== "NOTE").map((e) => e.batch),
    );
    expect(batches.size).toBe(5);
    const noteBatches = 5 - startBatches.size;
    expect(page.filter((e) => e.state === "NOTE")).toHaveLength(
      100 * noteBatches,
    );
    const next = await eventPage(
      t.db,
      runId,
      page.at(-1)?.sequence ?? 0,
      Number.MAX_SAFE_INTEGER,
      5,
    );
    expect(next[0]?.taskId).toBe(`b${noteBatches}-0`);
  });

  it("leaves out events beyond the frontier, mid-batch too", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    await appendBatches(t.db, runId, 1, 10);
    const all = await eventPage(t.db, runId, 0, Number.MAX_SAFE_INTEGER);
    const fifth = all.find((e) => e.taskId === "b0-4");
    const cut = await eventPage(t.db, runId, 0, fifth?.sequence ?? 0);
    expect(cut.at(-1)?.taskId).toBe("b0-4");
    const rest = await eventPage(
      t.db,
      runId,
      fifth?.sequence ?? 0,
      Number.MAX_SAFE_INTEGER,
    );
    expect(rest.map((e) => e.taskId)).toEqual([
      "b0-5",
      "b0-6",
      "b0-7",
      "b0-8",
      "b0-9",
    ]);
  });

  it("tells whether the run's own state changed after an event", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    await appendRunEvents(t.db, [{ runId, state: "FAILED" }]);
    const [failed] = (
      await eventPage(t.db, runId, 0, Number.MAX_SAFE_INTEGER)
    ).filter((e) => e.taskId === "" && e.state === "FAILED");
    expect(failed).toBeDefined();
    const at = failed?.sequence ?? 0;
    expect(await runChangedAfter(t.db, runId, at)).toBe(false);
    await appendRunEvents(t.db, [
      { runId, taskId: "a", state: "NOTE" },
      { runId, state: "RUNNING" },
    ]);
    expect(await runChangedAfter(t.db, runId, at)).toBe(true);
  });
});
