import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import {
  at,
  claimAll,
  failure,
  report,
  runRow,
  runState,
  start,
  task,
  taskRow,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";

describe.each(testBackends())("advanceRun on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("queues a join only when both branches succeeded", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("a"),
        task("b", { depends_on: ["a"] }),
        task("c", { depends_on: ["a"] }),
        task("join", { depends_on: ["b", "c"] }),
      ),
    );
    await report(t.db, (await claimAll(t.db, at(1))).get("a"), {}, at(2));
    expect(await taskStates(t.db, runId)).toEqual({
      a: "SUCCESS",
      b: "QUEUED",
      c: "QUEUED",
      join: "CREATED",
    });
    const branches = await claimAll(t.db, at(3));
    expect(branches.ids).toEqual(["b", "c"]);
    await report(t.db, branches.get("b"), {}, at(4));
    expect((await taskStates(t.db, runId)).join).toBe("CREATED");
    await report(t.db, branches.get("c"), {}, at(5));
    expect((await taskStates(t.db, runId)).join).toBe("QUEUED");
    expect((await taskRow(t.db, runId, "join")).queuedAt).toEqual(at(5));
    await report(t.db, (await claimAll(t.db, at(6))).get("join"), {}, at(7));
    expect(await runRow(t.db, runId)).toMatchObject({
      state: "SUCCESS",
      error: "",
      finishedAt: at(7),
    });
  });

  it("fails dependents at once, the run when all ended", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("a"),
        task("slow"),
        task("b", { depends_on: ["a"] }),
        task("c", { depends_on: ["b"] }),
        task("cleanup", { depends_on: ["a"], trigger_rule: "all_done" }),
        task("alert", { depends_on: ["a"], trigger_rule: "one_failed" }),
      ),
    );
    const roots = await claimAll(t.db, at(1));
    await report(t.db, roots.get("a"), failure("exit status 1"), at(3));
    expect(await taskStates(t.db, runId)).toEqual({
      a: "FAILED",
      slow: "ASSIGNED",
      b: "UPSTREAM_FAILED",
      c: "UPSTREAM_FAILED",
      cleanup: "QUEUED",
      alert: "QUEUED",
    });
    expect(await runState(t.db, runId)).toBe("RUNNING");
    const after = await claimAll(t.db, at(4));
    await report(t.db, roots.get("slow"), {}, at(4));
    await report(t.db, after.get("cleanup"), {}, at(5));
    expect(await runState(t.db, runId)).toBe("RUNNING");
    await report(t.db, after.get("alert"), {}, at(6));
    expect(await runRow(t.db, runId)).toMatchObject({
      state: "FAILED",
      error: "tasks did not succeed: a, b, c",
      finishedAt: at(6),
    });
  });

  it("skips a task whose condition is false, and skips spread", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("extract"),
        task("load", {
          depends_on: ["extract"],
          condition: "tasks.extract.output.rows > 0",
        }),
        task("report", { depends_on: ["load"] }),
        task("audit", { depends_on: ["load"], trigger_rule: "none_failed" }),
        task("notify", { depends_on: ["report"] }),
      ),
    );
    const extract = (await claimAll(t.db, at(1))).get("extract");
    await report(t.db, extract, { output: { rows: 0 } }, at(2));
    expect(await taskStates(t.db, runId)).toEqual({
      extract: "SUCCESS",
      load: "SKIPPED",
      report: "SKIPPED",
      notify: "SKIPPED",
      audit: "QUEUED",
    });
    await report(t.db, (await claimAll(t.db, at(3))).get("audit"), {}, at(4));
    expect(await runState(t.db, runId)).toBe("SUCCESS");
  });

  it("queues a task whose condition is true", async () => {
    const definition = workflow(
      task("extract"),
      task("load", {
        depends_on: ["extract"],
        condition: "tasks.extract.output.rows > 0 && params.load",
      }),
    );
    definition.params = { load: true };
    const { runId } = await start(t.db, definition, at(0));
    const extract = (await claimAll(t.db, at(1))).get("extract");
    await report(t.db, extract, { output: { rows: 12 } }, at(2));
    expect((await taskStates(t.db, runId)).load).toBe("QUEUED");
  });

  it("fails a task whose condition cannot be evaluated", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("extract"),
        task("load", {
          depends_on: ["extract"],
          condition: "tasks.extract.output.rows > 0",
        }),
      ),
    );
    const extract = (await claimAll(t.db, at(1))).get("extract");
    await report(t.db, extract, { output: { rows: "many" } }, at(2));
    const load = await taskRow(t.db, runId, "load");
    expect(load.state).toBe("FAILED");
    expect(load.error).toMatch(/^condition: /);
    expect(load.finishedAt).toEqual(at(2));
    expect(await runState(t.db, runId)).toBe("FAILED");
  });

  it("queues a task on one_success once one upstream succeeded", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("mirror1"),
        task("mirror2"),
        task("fetch", {
          depends_on: ["mirror1", "mirror2"],
          trigger_rule: "one_success",
        }),
      ),
    );
    const mirrors = await claimAll(t.db, at(1));
    await report(t.db, mirrors.get("mirror1"), failure(), at(2));
    expect((await taskStates(t.db, runId)).fetch).toBe("CREATED");
    await report(t.db, mirrors.get("mirror2"), {}, at(3));
    expect((await taskStates(t.db, runId)).fetch).toBe("QUEUED");
  });

  it("runs root tasks whatever their trigger rule", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("a", { trigger_rule: "one_success" }),
        task("b", { trigger_rule: "one_failed" }),
      ),
    );
    expect(await taskStates(t.db, runId)).toEqual({
      a: "QUEUED",
      b: "QUEUED",
    });
  });

  it("leaves the dependents of a task waiting to retry alone", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a", { retries: 1 }), task("b", { depends_on: ["a"] })),
    );
    await report(t.db, (await claimAll(t.db, at(1))).get("a"), failure());
    expect(await taskStates(t.db, runId)).toEqual({
      a: "RETRY",
      b: "CREATED",
    });
    expect(await runState(t.db, runId)).toBe("RUNNING");
  });
});
