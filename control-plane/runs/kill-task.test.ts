import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { attempts, leases } from "../db/index.js";
import { Channels } from "../notify/channels.js";
import {
  at,
  claimAll,
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
