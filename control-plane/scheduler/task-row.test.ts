import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { tasks } from "../db/index.js";
import { at, start, task, useTestDatabase, workflow } from "../test-support.js";
import { insertTasks, taskRow } from "./task-row.js";

describe.each(testBackends())("insertTasks on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("stores every column of each row as given", async () => {
    const { runId } = await start(t.db, workflow(task("root")), at(0));
    const awkward = [
      'q"uote',
      "back\\slash",
      "com,ma",
      "{brace}",
      "NULL",
      "sp ace",
      "é🦌",
    ];
    const withEverything = {
      ...task("full", { depends_on: awkward }),
      name: "Full task",
      priority: 7,
      node_selector: { zone: "lab" },
      affinity: [{ key: "gpu", operator: "In", values: ["a100"] }],
      retries: 2,
    };
    await insertTasks(t.db, [
      taskRow(
        runId,
        withEverything as never,
        { position: 3, generatedOrder: [2, 0] },
        at(5),
        true,
      ),
      taskRow(runId, task("plain") as never, { position: 4 }, at(5), false),
    ]);
    const [full] = await t.db
      .select()
      .from(tasks)
      .where(eq(tasks.taskId, "full"));
    expect(full).toMatchObject({
      runId,
      position: 3,
      generatedOrder: [2, 0],
      name: "Full task",
      type: withEverything.type,
      state: "QUEUED",
      dependsOn: awkward,
      priority: 7,
      nodeSelector: { zone: "lab" },
      affinity: withEverything.affinity,
      maxAttempts: 3,
      createdAt: at(5),
      queuedAt: at(5),
    });
    expect(full?.spec).toEqual(withEverything);
    const [plain] = await t.db
      .select()
      .from(tasks)
      .where(eq(tasks.taskId, "plain"));
    expect(plain).toMatchObject({
      state: "CREATED",
      dependsOn: [],
      affinity: null,
      queuedAt: null,
      name: "",
      generatedOrder: [],
    });
  });

  it("stores more rows than one statement takes", async () => {
    const { runId } = await start(t.db, workflow(task("root")), at(0));
    const many = Array.from({ length: 4_500 }, (_, i) =>
      taskRow(
        runId,
        task(`t${i}`, { depends_on: [`t${i - 1}`] }) as never,
        { position: i },
        at(1),
        false,
      ),
    );
    await insertTasks(t.db, many);
    const stored = await t.db
      .select({
        taskId: tasks.taskId,
        position: tasks.position,
        dependsOn: tasks.dependsOn,
      })
      .from(tasks)
      .where(eq(tasks.runId, runId));
    expect(stored).toHaveLength(4_501);
    const last = stored.find((row) => row.taskId === "t4499");
    expect(last).toEqual({
      taskId: "t4499",
      position: 4499,
      dependsOn: ["t4498"],
    });
  });

  it("refuses rows of two runs or two times in one call", async () => {
    const first = await start(t.db, workflow(task("root")), at(0));
    const second = await start(t.db, workflow(task("root")), at(0));
    const row = (runId: string, id: string, seconds: number) =>
      taskRow(runId, task(id) as never, { position: 0 }, at(seconds), true);
    await expect(
      insertTasks(t.db, [row(first.runId, "a", 1), row(second.runId, "b", 1)]),
    ).rejects.toThrow("rows of one run, made at one time");
    await expect(
      insertTasks(t.db, [row(first.runId, "a", 1), row(first.runId, "b", 2)]),
    ).rejects.toThrow("rows of one run, made at one time");
    const stored = await t.db
      .select({ taskId: tasks.taskId })
      .from(tasks)
      .where(eq(tasks.runId, first.runId));
    expect(stored.map((r) => r.taskId)).toEqual(["root"]);
  });
});
