import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { runs } from "../db/index.js";
import {
  at,
  runRow,
  start,
  task,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { timeOutRuns } from "./time-out-runs.js";

describe.each(testBackends())("timeOutRuns on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("fails a run once its deadline passes, and no run without one", async () => {
    const timed = await start(
      t.db,
      { ...workflow(task("a"), task("b", { depends_on: ["a"] })), timeout: 5 },
      at(0),
    );
    const untimed = await start(t.db, workflow(task("c")), at(0));
    expect((await runRow(t.db, timed.runId)).deadlineAt).toEqual(at(5));
    expect((await runRow(t.db, untimed.runId)).deadlineAt).toBeNull();

    expect(await timeOutRuns(t.db, at(4.999))).toEqual([]);
    expect(await timeOutRuns(t.db, at(5))).toEqual([timed.runId]);
    expect(await runRow(t.db, timed.runId)).toMatchObject({
      state: "FAILED",
      error: "the run exceeded its timeout of 5 s",
    });
    expect(await taskStates(t.db, timed.runId)).toEqual({
      a: "KILLED",
      b: "KILLED",
    });
    // Ended runs are not looked at again, and the untimed run runs on.
    expect(await timeOutRuns(t.db, at(3600))).toEqual([]);
    expect((await runRow(t.db, untimed.runId)).state).toMatch(
      /PENDING|RUNNING/,
    );
  });

  it("ends the most overdue first, a batch a sweep", async () => {
    const late = await start(
      t.db,
      { ...workflow(task("a")), timeout: 10 },
      at(0),
    );
    const later = await start(
      t.db,
      { ...workflow(task("a")), timeout: 1 },
      at(20),
    );
    const [first, second] = [late.runId, later.runId];
    expect(await timeOutRuns(t.db, at(30))).toEqual([first, second]);
    const [row] = await t.db.select().from(runs).where(eq(runs.id, first));
    expect(row?.finishedAt).toEqual(at(30));
  });
});
