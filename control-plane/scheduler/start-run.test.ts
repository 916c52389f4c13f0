import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { testBackends } from "../../test/support/test-database.js";
import { type Db, rowsOf, runs, tasks } from "../db/index.js";
import {
  at,
  history,
  openTransaction,
  runRow,
  start,
  task,
  taskRow,
  taskStates,
  untilALockIsAwaited,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { startRun } from "./start-run.js";
import { maxAttempts } from "./task-row.js";

const diamond = workflow(
  task("a"),
  task("b", { depends_on: ["a"] }),
  task("c", { depends_on: ["a"] }),
  task("d", { depends_on: ["b", "c"] }),
  task("e"),
);

describe.each(testBackends())("startRun on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("stores every task and queues the roots only", async () => {
    const { runId, created } = await start(t.db, diamond, at(0));
    expect(created).toBe(true);
    expect(await taskStates(t.db, runId)).toEqual({
      a: "QUEUED",
      b: "CREATED",
      c: "CREATED",
      d: "CREATED",
      e: "QUEUED",
    });
    const run = await runRow(t.db, runId);
    expect(run).toMatchObject({
      state: "RUNNING",
      workflowName: "wf",
      startedAt: at(0),
      finishedAt: null,
    });
    expect((await taskRow(t.db, runId, "a")).queuedAt).toEqual(at(0));
    expect(await history(t.db, runId)).toEqual([
      "run:PENDING",
      "a:QUEUED",
      "e:QUEUED",
      "run:RUNNING",
    ]);
  });

  it("keeps order, priority, selector and attempts", async () => {
    const definition = workflow(
      task("z", { priority: 7, node_selector: { gpu: "h100" }, retries: 2 }),
      task("y", { retry: { max_attempts: 4 }, retries: 1 }),
    );
    const { runId } = await start(t.db, definition);
    const rows = await t.db
      .select()
      .from(tasks)
      .where(eq(tasks.runId, runId))
      .orderBy(tasks.position);
    expect(
      rows.map((r) => [r.taskId, r.priority, r.nodeSelector, r.maxAttempts]),
    ).toEqual([
      ["z", 7, { gpu: "h100" }, 3],
      ["y", 0, {}, 4],
    ]);
  });

  it("returns the same run for the same idempotency key", async () => {
    const first = await start(t.db, diamond, at(0), "nightly-2026-01-01");
    const again = await start(t.db, diamond, at(5), "nightly-2026-01-01");
    expect(again).toEqual({ runId: first.runId, created: false });
    const other = await start(t.db, diamond, at(6), "nightly-2026-01-02");
    expect(other.created).toBe(true);
    expect(other.runId).not.toBe(first.runId);
    expect(await runCount(t.db)).toBe(2);
  });

  it("refuses an idempotency key reused for a different start", async () => {
    const first = await start(t.db, diamond, at(0), "nightly");
    const smaller = workflow(task("a"));
    await expect(start(t.db, smaller, at(1), "nightly")).rejects.toThrow(
      `idempotency_key: "nightly" already started run ${first.runId} with a different definition`,
    );
    const otherParams = startRun(
      t.db,
      {
        definition: diamond,
        params: { day: "monday" },
        workflowVersion: 0,
        idempotencyKey: "nightly",
      },
      at(1),
    );
    await expect(otherParams).rejects.toThrow(/with different params$/);
    const renamed = { ...smaller, name: "other" };
    await expect(start(t.db, renamed, at(1), "nightly")).rejects.toThrow(
      /with a different workflow$/,
    );
    // Key order is not a difference.
    const reordered = { tasks: diamond.tasks, params: {}, name: "wf" };
    expect(await start(t.db, reordered, at(2), "nightly")).toEqual({
      runId: first.runId,
      created: false,
    });
    expect(await runCount(t.db)).toBe(1);
  });

  it("treats an empty idempotency key as none", async () => {
    const first = await start(t.db, diamond, at(0), "");
    const second = await start(t.db, diamond, at(0), "");
    expect(second.runId).not.toBe(first.runId);
    expect((await runRow(t.db, first.runId)).idempotencyKey).toBeNull();
  });

  it("ends a run at once when every task is skipped at the start", async () => {
    const definition = workflow(
      task("a", { condition: "params.enabled" }),
      task("b", { depends_on: ["a"] }),
    );
    definition.params = { enabled: false };
    const { runId } = await start(t.db, definition, at(3));
    expect(await taskStates(t.db, runId)).toEqual({
      a: "SKIPPED",
      b: "SKIPPED",
    });
    expect(await runRow(t.db, runId)).toMatchObject({
      state: "SUCCESS",
      finishedAt: at(3),
    });
  });

  it("stores nothing when a task row cannot be written", async () => {
    const broken = workflow(task("a"), task("a"));
    await expect(start(t.db, broken)).rejects.toThrow();
    expect(await runCount(t.db)).toBe(0);
  });
});

describe.each(testBackends().filter((b) => b.name === "postgres"))(
  "startRun under concurrency on $name",
  (backend) => {
    const t = useTestDatabase(backend);

    it("gives concurrent starts with one key one run", async () => {
      const other = await t.openAnother();
      const handles = [t.db, other.db, t.db, other.db];
      const started = await Promise.all(
        handles.map((db) => start(db, diamond, at(0), "same-key")),
      );
      const ids = new Set(started.map((s) => s.runId));
      expect(ids.size).toBe(1);
      expect(started.filter((s) => s.created)).toHaveLength(1);
      expect(await runCount(t.db)).toBe(1);
    });

    it("returns the run a start committed while this one waited", async () => {
      const heldId = crypto.randomUUID();
      // The other start has stored its run but not committed yet.
      const holding = await openTransaction(await t.openAnother(), (tx) =>
        tx.insert(runs).values({
          id: heldId,
          workflowName: "wf",
          definition: diamond as unknown as JsonObject,
          params: {},
          state: "PENDING",
          idempotencyKey: "raced",
        }),
      );
      const starting = start(t.db, diamond, at(0), "raced");
      await untilALockIsAwaited(t.db);
      await holding.end();
      expect(await starting).toEqual({ runId: heldId, created: false });
      expect(await runCount(t.db)).toBe(1);
    });
  },
);

describe("maxAttempts", () => {
  it("reads retry.max_attempts before the retries shorthand", () => {
    expect(maxAttempts(task("a"))).toBe(1);
    expect(maxAttempts(task("a", { retries: 2 }))).toBe(3);
    expect(maxAttempts(task("a", { retries: 2, retry: {} }))).toBe(3);
    expect(
      maxAttempts(task("a", { retries: 2, retry: { max_attempts: 5 } })),
    ).toBe(5);
  });
});

async function runCount(db: Db): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(sql`SELECT count(*)::int AS n FROM runs`),
  );
  return row?.n ?? -1;
}
