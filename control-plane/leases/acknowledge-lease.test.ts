import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { attempts, leases, runs, tasks } from "../db/index.js";
import { cancelRun } from "../runs/cancel-run.js";
import {
  at,
  claimAll,
  history,
  LEASE_TTL_MS,
  start,
  task,
  taskRow,
  untilALockIsAwaited,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";

describe.each(testBackends())("acknowledgeLease on $name", (backend) => {
  const t = useTestDatabase(backend);

  async function granted() {
    const { runId } = await start(t.db, workflow(task("a")), at(0));
    return { runId, lease: (await claimAll(t.db, at(1))).get("a") };
  }

  it("activates the lease and starts the task", async () => {
    const { runId, lease } = await granted();
    expect(await acknowledgeLease(t.db, "agent-1", lease, at(2))).toBe(true);
    const [row] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, lease.leaseId));
    expect(row).toMatchObject({
      state: "ACTIVE",
      expiresAt: new Date(at(2).getTime() + LEASE_TTL_MS),
    });
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "RUNNING",
      startedAt: at(2),
    });
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, lease.leaseId));
    expect(attempt?.startedAt).toEqual(at(2));
    expect((await history(t.db, runId)).at(-1)).toBe("a:RUNNING");
  });

  it("accepts a repeated acknowledgement without a second start", async () => {
    const { runId, lease } = await granted();
    await acknowledgeLease(t.db, "agent-1", lease, at(2));
    const before = await history(t.db, runId);
    expect(await acknowledgeLease(t.db, "agent-1", lease, at(3))).toBe(true);
    expect(await history(t.db, runId)).toEqual(before);
    expect((await taskRow(t.db, runId, "a")).startedAt).toEqual(at(2));
  });

  it("refuses a wrong token, another agent and a revoked lease", async () => {
    const { runId, lease } = await granted();
    const stale = { ...lease, fencingToken: 7 };
    expect(await acknowledgeLease(t.db, "agent-1", stale, at(2))).toBe(false);
    expect(await acknowledgeLease(t.db, "agent-2", lease, at(2))).toBe(false);
    expect((await taskRow(t.db, runId, "a")).state).toBe("ASSIGNED");
    await cancelRun(t.db, runId, "", at(3));
    expect(await acknowledgeLease(t.db, "agent-1", lease, at(4))).toBe(false);
    expect((await taskRow(t.db, runId, "a")).state).toBe("KILLED");
  });
});

describe.each(testBackends().filter((b) => b.name === "postgres"))(
  "acknowledgeLease beside a cancel on $name",
  (backend) => {
    const t = useTestDatabase(backend);

    it("waits for a cancel holding the run, without deadlock", async () => {
      const { runId } = await start(t.db, workflow(task("a")), at(0));
      const lease = (await claimAll(t.db, at(1))).get("a");
      const other = await t.openAnother();
      let tasksLocked = () => {};
      const locked = new Promise<void>((resolve) => {
        tasksLocked = resolve;
      });
      let goOn = () => {};
      const resumed = new Promise<void>((resolve) => {
        goOn = resolve;
      });
      // cancelRun's lock order, paused between its steps: the run, then
      // its tasks, then their leases.
      const cancelling = other.db.transaction(async (tx) => {
        await tx.select().from(runs).where(eq(runs.id, runId)).for("update");
        await tx
          .update(tasks)
          .set({ state: "KILLED" })
          .where(and(eq(tasks.runId, runId), eq(tasks.taskId, "a")));
        tasksLocked();
        await resumed;
        await tx
          .update(leases)
          .set({ state: "REVOKED" })
          .where(eq(leases.id, lease.leaseId));
      });
      await locked;
      const acknowledging = acknowledgeLease(
        t.db,
        "agent-1",
        lease,
        at(2),
      ).catch((error: unknown) => error);
      await untilALockIsAwaited(t.db);
      goOn();
      await cancelling;
      expect(await acknowledging).toBe(false);
      expect((await taskRow(t.db, runId, "a")).state).toBe("KILLED");
    });
  },
);
