import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import {
  at,
  claimAll,
  failure,
  history,
  report,
  runState,
  start,
  task,
  taskRow,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { retryTasks } from "./retry-tasks.js";

describe.each(testBackends())("retryTasks on $name", (backend) => {
  const t = useTestDatabase(backend);

  /** a fails; b depends on a; c succeeds on its own. */
  async function failedRun() {
    const { runId } = await start(
      t.db,
      workflow(
        task("a", { retries: 1 }),
        task("b", { depends_on: ["a"] }),
        task("c"),
      ),
    );
    const first = await claimAll(t.db, at(1));
    await report(t.db, first.get("c"), {}, at(2));
    await report(
      t.db,
      first.get("a"),
      failure("boom", { retryable: false }),
      at(2),
    );
    expect(await runState(t.db, runId)).toBe("FAILED");
    return runId;
  }

  it("retries a finished run's failed tasks and what they blocked, keeping successes", async () => {
    const runId = await failedRun();
    expect(await retryTasks(t.db, runId, "failed", at(10))).toEqual({
      kind: "retried",
      taskIds: ["a"],
    });
    expect(await taskStates(t.db, runId)).toEqual({
      a: "QUEUED",
      b: "CREATED",
      c: "SUCCESS",
    });
    expect(await runState(t.db, runId)).toBe("RUNNING");
    // A fresh set of attempts: 1 used, retries: 1 gives two more.
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      attemptCount: 1,
      maxAttempts: 3,
      error: "",
    });
    const again = (await claimAll(t.db, at(11))).get("a");
    expect(again.attempt).toBe(2);
    await report(t.db, again, {}, at(12));
    await report(t.db, (await claimAll(t.db, at(13))).get("b"), {}, at(14));
    expect(await runState(t.db, runId)).toBe("SUCCESS");
    expect(await history(t.db, runId)).toEqual(
      expect.arrayContaining([
        "a:CREATED",
        "b:CREATED",
        "run:RUNNING",
        "run:SUCCESS",
      ]),
    );
  });

  it("retries one task; refuses tasks that did not fail and runs still going", async () => {
    const runId = await failedRun();
    expect(
      await retryTasks(t.db, runId, { taskId: "c" }, at(10)),
    ).toMatchObject({
      kind: "not_retryable",
      message: expect.stringContaining("task c is SUCCESS"),
    });
    expect(await retryTasks(t.db, runId, { taskId: "nope" }, at(10))).toEqual({
      kind: "not_found",
    });
    expect(await retryTasks(t.db, runId, { taskId: "a" }, at(10))).toEqual({
      kind: "retried",
      taskIds: ["a"],
    });
    expect(await retryTasks(t.db, runId, "failed", at(11))).toMatchObject({
      kind: "not_retryable",
      message: expect.stringContaining("RUNNING"),
    });
  });
});
