import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  type AgentProcess,
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { runCli } from "../support/run-cli.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const [pglite] = testBackends();

describe("operator commands: tasks kill|retry, runs retry, agents cordon|uncordon|drain", () => {
  let cp: TestControlPlane;
  let agent: AgentProcess;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
    env = { DEERFLOW_SERVER: cp.url };
    dir = await mkdtemp(join(tmpdir(), "deerflow-ops-"));
    agent = await spawnAgent({ serverUrl: cp.url, name: "worker" });
    await waitForAgents(cp.clients, ["worker"]);
  });

  afterAll(async () => {
    await stopAllAgents();
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function taskState(
    runId: string,
    taskId: string,
  ): Promise<TaskState | undefined> {
    const { task } = await cp.clients.runs.getTask({ runId, taskId });
    return task?.state;
  }

  async function until(
    check: () => Promise<boolean>,
    what: string,
  ): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it("kills a running task, then retries it once the cause is fixed", async () => {
    const marker = join(dir, "fixed");
    const started = join(dir, "started");
    const runId = await startInline(cp.clients, {
      name: "ops",
      tasks: [
        {
          id: "slow",
          type: "shell",
          command: `touch ${started}; if [ -e ${marker} ]; then exit 0; fi; sleep 300`,
        },
        { id: "after", type: "shell", depends_on: ["slow"], command: "true" },
      ],
    });
    await until(async () => existsSync(started), "the task to start");
    const killed = await runCli(["tasks", "kill", runId, "slow"], env);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toContain("task slow: KILLED");
    const failed = await waitForRun(cp.clients, runId);
    expect(failed.tasks.map((t) => TaskState[t.state])).toEqual([
      "KILLED",
      "UPSTREAM_FAILED",
    ]);

    await writeFile(marker, "");
    const retried = await runCli(["runs", "retry", runId, "--wait"], env);
    expect(retried.code, retried.stderr).toBe(0);
    const done = await waitForRun(cp.clients, runId);
    expect(done.tasks.map((t) => TaskState[t.state])).toEqual([
      "SUCCESS",
      "SUCCESS",
    ]);
    expect(done.tasks[0]?.attempts.map((a) => a.number)).toEqual([1, 2]);
  });

  it("a cordoned agent takes no new task until uncordoned", async () => {
    const cordoned = await runCli(["agents", "cordon", "worker"], env);
    expect(cordoned.stdout).toContain("agent worker: CORDONED");
    const runId = await startInline(cp.clients, {
      name: "held",
      tasks: [{ id: "wait", type: "shell", command: "true" }],
    });
    // The agent has free slots and the task fits: only the cordon holds it.
    const { task } = await cp.clients.runs.getTask({ runId, taskId: "wait" });
    expect(task?.state).toBe(TaskState.QUEUED);
    const uncordoned = await runCli(["agents", "uncordon", "worker"], env);
    expect(uncordoned.stdout).toContain("agent worker: CONNECTED");
    await waitForRun(cp.clients, runId);
    expect(await taskState(runId, "wait")).toBe(TaskState.SUCCESS);
  });

  it("a drained agent finishes its attempt and exits", async () => {
    const runId = await startInline(cp.clients, {
      name: "drain",
      tasks: [{ id: "short", type: "shell", command: "sleep 1" }],
    });
    await until(
      async () => (await taskState(runId, "short")) === TaskState.RUNNING,
      "RUNNING",
    );
    const drained = await runCli(
      ["agents", "drain", "worker", "--grace-ms", "20000"],
      env,
    );
    expect(drained.stdout).toContain("agent worker: DRAINING");
    expect(await agent.exited).toBe(0);
    expect(await taskState(runId, "short")).toBe(TaskState.SUCCESS);
  });
});
