import { asc, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import {
  type Db,
  EVENT_NUMBERS_PER_BATCH,
  MAX_EVENTS_PER_BATCH,
  rowsOf,
  runEvents,
} from "../db/index.js";
import { acknowledgeLease } from "../leases/acknowledge-lease.js";
import { promoteDueRetries } from "../leases/expire-leases.js";
import { Channels } from "../notify/channels.js";
import { cancelRun } from "../runs/cancel-run.js";
import { canTransitionTask, type TaskStateName } from "../scheduler/states.js";
import {
  at,
  claimAll,
  failure,
  listenFor,
  report,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { appendRunEvents, appendRunEventsFrom } from "./append-run-events.js";
import { RunEventHub } from "./run-event-hub.js";

/** How many batches of events the run has stored. */
async function batchCount(db: Db, runId: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(
      sql`SELECT count(*)::int AS n FROM run_event_batches WHERE run_id = ${runId}`,
    ),
  );
  return row?.n ?? 0;
}

async function eventsOf(db: Db, runId: string) {
  return db
    .select()
    .from(runEvents)
    .where(eq(runEvents.runId, runId))
    .orderBy(asc(runEvents.sequence));
}

/** Claims, acknowledges and reports one attempt of `taskId`. */
async function attempt(
  db: Db,
  taskId: string,
  second: number,
  outcome: Parameters<typeof report>[2] = {},
) {
  const lease = (await claimAll(db, at(second))).get(taskId);
  await acknowledgeLease(db, "agent-1", lease, at(second));
  await report(db, lease, outcome, at(second + 1));
}

describe.each(testBackends())("run events on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("record a whole run's life in order", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("extract", { retries: 1 }),
        task("transform", {
          depends_on: ["extract"],
          condition: "tasks.extract.output.rows > 0",
        }),
        task("load", {
          depends_on: ["transform"],
          condition: "tasks.extract.output.rows > 100",
        }),
        task("notify", { depends_on: ["load"] }),
      ),
      at(0),
    );
    await attempt(t.db, "extract", 1, failure("flaky"));
    expect(await promoteDueRetries(t.db, at(10))).toBe(1);
    await attempt(t.db, "extract", 11, { output: { rows: 5 } });
    await attempt(t.db, "transform", 13);

    const events = await eventsOf(t.db, runId);
    expect(
      events.map((e) => [e.taskId || "run", e.state, e.attempt, e.agentId]),
    ).toEqual([
      ["run", "PENDING", 0, ""],
      ["extract", "QUEUED", 0, ""],
      ["run", "RUNNING", 0, ""],
      ["extract", "ASSIGNED", 1, "agent-1"],
      ["extract", "RUNNING", 1, "agent-1"],
      ["extract", "RETRY", 1, "agent-1"],
      ["extract", "QUEUED", 0, ""],
      ["extract", "ASSIGNED", 2, "agent-1"],
      ["extract", "RUNNING", 2, "agent-1"],
      ["extract", "SUCCESS", 2, "agent-1"],
      ["transform", "QUEUED", 0, ""],
      ["transform", "ASSIGNED", 1, "agent-1"],
      ["transform", "RUNNING", 1, "agent-1"],
      ["transform", "SUCCESS", 1, "agent-1"],
      ["load", "SKIPPED", 0, ""],
      ["notify", "SKIPPED", 0, ""],
      ["run", "SUCCESS", 0, ""],
    ]);
    expect(events.find((e) => e.state === "RETRY")?.error).toBe("flaky");
    const sequences = events.map((e) => e.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it("only record task moves that the lifecycle allows", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("a", { retries: 1 }),
        task("b", { depends_on: ["a"] }),
        task("c"),
        task("d", { depends_on: ["c"] }),
      ),
    );
    const roots = await claimAll(t.db, at(1));
    for (const id of ["a", "c"]) {
      await acknowledgeLease(t.db, "agent-1", roots.get(id), at(1));
    }
    await report(t.db, roots.get("a"), failure(), at(2));
    await promoteDueRetries(t.db, at(10));
    await attempt(t.db, "a", 11, failure());
    await cancelRun(t.db, runId, "", at(21));

    const last = new Map<string, TaskStateName>();
    const walked: string[] = [];
    for (const e of await eventsOf(t.db, runId)) {
      if (e.taskId === "") continue;
      const from = last.get(e.taskId) ?? "CREATED";
      const to = e.state as TaskStateName;
      walked.push(`${e.taskId}:${from}->${to}`);
      expect(canTransitionTask(from, to), `${e.taskId}: ${from} -> ${to}`).toBe(
        true,
      );
      last.set(e.taskId, to);
    }
    expect(Object.fromEntries(last)).toEqual({
      a: "FAILED",
      b: "UPSTREAM_FAILED",
      c: "KILLED",
      d: "KILLED",
    });
    expect(walked.length).toBeGreaterThan(8);
  });

  it("append in order, and nothing for an empty list", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    const before = await eventsOf(t.db, runId);
    await appendRunEvents(t.db, []);
    expect(await eventsOf(t.db, runId)).toEqual(before);
    await appendRunEvents(t.db, [
      { runId, taskId: "a", state: "NOTE", error: "first" },
      { runId, state: "NOTE", error: "second" },
    ]);
    const after = await eventsOf(t.db, runId);
    expect(after.slice(before.length)).toMatchObject([
      { taskId: "a", state: "NOTE", error: "first", attempt: 0, agentId: "" },
      { taskId: "", state: "NOTE", error: "second" },
    ]);
  });

  it("store each event's own values, whether a column varies or not", async () => {
    const one = await start(t.db, workflow(task("a")));
    const two = await start(t.db, workflow(task("b")));
    const before = {
      one: (await eventsOf(t.db, one.runId)).length,
      two: (await eventsOf(t.db, two.runId)).length,
    };
    await appendRunEvents(t.db, [
      {
        runId: one.runId,
        taskId: "a",
        state: "NOTE",
        attempt: 2,
        agentId: "x",
      },
      { runId: two.runId, taskId: "b", state: "OTHER", error: "why" },
      { runId: one.runId, state: "NOTE", attempt: 2, agentId: "y" },
    ]);
    expect((await eventsOf(t.db, one.runId)).slice(before.one)).toMatchObject([
      { taskId: "a", state: "NOTE", attempt: 2, agentId: "x", error: "" },
      { taskId: "", state: "NOTE", attempt: 2, agentId: "y", error: "" },
    ]);
    expect((await eventsOf(t.db, two.runId)).slice(before.two)).toMatchObject([
      { taskId: "b", state: "OTHER", attempt: 0, agentId: "", error: "why" },
    ]);
  });

  it("write a statement's events of one run as one batch, numbered in order", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a"), task("b"), task("c")),
      at(0),
    );
    const batchesBefore = await batchCount(t.db, runId);
    const claimed = await claimAll(t.db, at(1));
    expect(claimed.ids).toEqual(["a", "b", "c"]);
    // One claim of three tasks: one batch of three ASSIGNED events.
    expect(await batchCount(t.db, runId)).toBe(batchesBefore + 1);
    const assigned = (await eventsOf(t.db, runId)).filter(
      (e) => e.state === "ASSIGNED",
    );
    expect(assigned.map((e) => e.taskId).sort()).toEqual(["a", "b", "c"]);
    const [first] = assigned;
    expect(assigned.map((e) => e.sequence - (first?.sequence ?? 0))).toEqual([
      0, 1, 2,
    ]);
    expect(assigned.map((e) => e.batch)).toEqual(
      assigned.map(() =>
        Math.floor((first?.sequence ?? 0) / EVENT_NUMBERS_PER_BATCH),
      ),
    );
  });

  it("split a statement's events of one run into batches of MAX_EVENTS_PER_BATCH", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    const before = await eventsOf(t.db, runId);
    const count = MAX_EVENTS_PER_BATCH + 2;
    const notes = Array.from({ length: count }, (_, i) => ({
      runId,
      taskId: `n${i}`,
      state: "NOTE",
    }));
    await appendRunEvents(t.db, notes);
    await t.db.execute(sql`
      WITH added AS (
        SELECT ${runId}::uuid AS run_id, 'm' || i AS task_id, 'NOTE', 0, '',
          '', 0
        FROM generate_series(0, ${count - 1}) AS i
      ),
      ${appendRunEventsFrom(sql`SELECT * FROM added`)}
      SELECT notified FROM events_notified`);
    const after = (await eventsOf(t.db, runId)).slice(before.length);
    // appendRunEvents keeps its order; a statement's batch has none.
    expect(after.slice(0, count).map((e) => e.taskId)).toEqual(
      notes.map((n) => n.taskId),
    );
    expect(
      after
        .slice(count)
        .map((e) => e.taskId)
        .sort(),
    ).toEqual(notes.map((_, i) => `m${i}`).sort());
    // Two batches a statement: MAX_EVENTS_PER_BATCH events and the rest
    // (in that order from appendRunEvents, in either from a statement).
    const sizes = (prefix: string) => {
      const counts = new Map<number, number>();
      for (const e of after.filter((e) => e.taskId.startsWith(prefix))) {
        counts.set(e.batch, (counts.get(e.batch) ?? 0) + 1);
      }
      return [...counts.values()];
    };
    expect(sizes("n")).toEqual([MAX_EVENTS_PER_BATCH, 2]);
    expect(sizes("m").sort((x, y) => x - y)).toEqual([2, MAX_EVENTS_PER_BATCH]);
    const sequences = after.map((e) => e.sequence);
    expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
  });

  it("number a statement's phases in order, whatever order its source lists them in", async () => {
    const { runId } = await start(t.db, workflow(task("a"), task("b")));
    const before = await eventsOf(t.db, runId);
    await t.db.execute(sql`
      WITH ${appendRunEventsFrom(sql`
        SELECT ${runId}::uuid, task_id, 'SUCCESS', 1, 'agent-1', '', 1
        FROM unnest('{a,b}'::text[]) AS task_id
        UNION ALL
        SELECT ${runId}::uuid, task_id, 'RUNNING', 1, 'agent-1', '', 0
        FROM unnest('{a,b}'::text[]) AS task_id`)}
      SELECT notified FROM events_notified`);
    const after = (await eventsOf(t.db, runId)).slice(before.length);
    expect(after.map((e) => e.state)).toEqual([
      "RUNNING",
      "RUNNING",
      "SUCCESS",
      "SUCCESS",
    ]);
    expect(new Set(after.map((e) => e.batch)).size).toBe(2);
  });

  it("notify the run's id on its channel", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    const watch = await listenFor(
      t.database,
      Channels.runEvent,
      (payload) => payload === runId,
    );
    try {
      await appendRunEvents(t.db, [{ runId, state: "NOTE" }]);
      expect(await watch.received).toBe(runId);
    } finally {
      await watch.stop();
    }
  });

  it("wake a hub's watchers of that run", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    const hub = new RunEventHub(t.database, silentLogger());
    await hub.start();
    const subscription = hub.subscribe(runId);
    const abort = new AbortController();
    try {
      // A fallback far beyond the test's timeout: only a wakeup resolves.
      const changed = subscription.changed(abort.signal, 10 * 60_000);
      await cancelRun(t.db, runId, "", at(1));
      await changed;
    } finally {
      abort.abort();
      subscription.close();
      await hub.stop();
    }
    const events = await eventsOf(t.db, runId);
    expect(events.at(-1)?.state).toBe("CANCELLED");
  });
});
