import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { attempts, leases, runEvents } from "../db/index.js";
import { Channels } from "../notify/channels.js";
import {
  at,
  claimAll,
  LEASE_TTL_MS,
  listenFor,
  report,
  runState,
  start,
  task,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { killTask } from "./kill-task.js";
import { retryTasks } from "./retry-tasks.js";

describe.each(testBackends())("killTask on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("stops a running attempt, fails its dependents and ends the run", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a"), task("b", { depends_on: ["a"] }), task("c")),
    );
    const claimed = await claimAll(t.db, at(1));
    await report(t.db, claimed.get("c"), {}, at(2));
    const cancel = await listenFor(t.database, Channels.agentCommand);
    try {
      expect(await killTask(t.db, runId, "a", "wrong input", at(3))).toEqual({
        kind: "killed",
      });
      expect(JSON.parse(await cancel.received)).toMatchObject({
        kind: "cancel",
        leaseId: claimed.get("a").leaseId,
      });
    } finally {
      await cancel.stop();
    }
    expect(await taskStates(t.db, runId)).toEqual({
      a: "KILLED",
      b: "UPSTREAM_FAILED",
      c: "SUCCESS",
    });
    expect(await runState(t.db, runId)).toBe("FAILED");
    const [lease] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, claimed.get("a").leaseId));
    expect(lease?.state).toBe("REVOKED");
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, claimed.get("a").leaseId));
    expect(attempt).toMatchObject({ outcome: "KILLED", error: "wrong input" });
    // The KILLED event names the attempt and the agent that was running it.
    const [killed] = await t.db
      .select()
      .from(runEvents)
      .where(and(eq(runEvents.runId, runId), eq(runEvents.state, "KILLED")));
    expect(killed).toMatchObject({
      taskId: "a",
      attempt: 1,
      agentId: attempt?.agentId,
      error: "wrong input",
    });
    expect(killed?.agentId).not.toBe("");
    // The agent's late result is refused.
    expect(await report(t.db, claimed.get("a"), {}, at(4))).toMatchObject({
      accepted: false,
    });
  });

  it("kills a task that has not started, and refuses a finished one", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a"), task("b", { depends_on: ["a"] })),
    );
    expect(await killTask(t.db, runId, "b", "", at(1))).toEqual({
      kind: "killed",
    });
    expect((await taskStates(t.db, runId)).b).toBe("KILLED");
    const a = (await claimAll(t.db, at(2))).get("a");
    await report(t.db, a, {}, at(3));
    expect(await killTask(t.db, runId, "a", "", at(4))).toEqual({
      kind: "already_finished",
      state: "SUCCESS",
    });
    expect(await killTask(t.db, runId, "zzz", "", at(4))).toEqual({
      kind: "not_found",
    });
  });
});

describe.each(testBackends())("a retry after a kill on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("waits until the killed attempt is confirmed stopped, or its lease lapses", async () => {
    const { runId } = await start(t.db, workflow(task("a"), task("b")));
    const first = await claimAll(t.db, at(1));
    await killTask(t.db, runId, "a", "", at(2));
    await killTask(t.db, runId, "b", "", at(2));
    await retryTasks(t.db, runId, { taskId: "a" }, at(3));
    await retryTasks(t.db, runId, { taskId: "b" }, at(3));
    expect(await taskStates(t.db, runId)).toEqual({ a: "QUEUED", b: "QUEUED" });

    // Both old attempts may still be dying: nothing is handed out.
    expect((await claimAll(t.db, at(4))).ids).toEqual([]);

    // a's agent reports its attempt ended at at(6): refused, but it says
    // the tree is gone, so a may run again.
    const verdict = await report(
      t.db,
      first.get("a"),
      { outcome: "KILLED", finishedAt: at(6) },
      at(7),
    );
    expect(verdict).toMatchObject({ accepted: false, reason: "lease revoked" });
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, first.get("a").leaseId));
    expect(attempt?.finishedAt).toEqual(at(6));
    expect((await claimAll(t.db, at(8))).ids).toEqual(["a"]);

    // b's agent never answers; once its lease would have lapsed, b runs.
    const lapsed = new Date(at(1).getTime() + LEASE_TTL_MS + 1);
    expect((await claimAll(t.db, lapsed)).ids).toEqual(["b"]);
  });
});
