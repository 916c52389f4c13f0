import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { runEventsOf, startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/**
 * extract -> (left, right in parallel) -> join -> on_gpu (pinned to the
 * agent labelled gpu=true). left and right meet at a file barrier, so
 * the run only succeeds when they really run at the same time.
 */
function definition(barrier: string) {
  const meet = (me: string, other: string) =>
    `touch ${barrier}/${me}; i=0; while [ ! -e ${barrier}/${other} ]; do ` +
    `i=$((i+1)); [ $i -gt 600 ] && exit 7; sleep 0.05; done; `;
  return {
    name: "main-job",
    params: { base: 20 },
    tasks: [
      {
        id: "extract",
        type: "shell",
        command: 'echo "rows=${params.base}" >> "$DEERFLOW_OUTPUT"',
      },
      {
        id: "left",
        type: "shell",
        depends_on: ["extract"],
        command: `${meet("left", "right")}echo "n=$(expr \${tasks.extract.output.rows} + 1)" >> "$DEERFLOW_OUTPUT"`,
      },
      {
        id: "right",
        type: "shell",
        depends_on: ["extract"],
        command: `${meet("right", "left")}echo "n=$(expr \${tasks.extract.output.rows} + 2)" >> "$DEERFLOW_OUTPUT"`,
      },
      {
        id: "join",
        type: "shell",
        depends_on: ["left", "right"],
        command:
          "total=$(expr ${tasks.left.output.n} + ${tasks.right.output.n}); " +
          'echo "{\\"total\\": $total}" > "$DEERFLOW_OUTPUT"',
      },
      {
        id: "on_gpu",
        type: "shell",
        depends_on: ["join"],
        node_selector: { gpu: "true" },
        command:
          'echo "received=${tasks.join.output.total}" >> "$DEERFLOW_OUTPUT"',
      },
    ],
  };
}

describe.each(testBackends())("the main job on $name", (backend) => {
  let cp: TestControlPlane;
  let barrier: string;

  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
    barrier = await mkdtemp(join(tmpdir(), "deerflow-barrier-"));
  });

  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
    await rm(barrier, { recursive: true, force: true });
  });

  it("runs a DAG in order, in parallel, on the labelled agent, passing outputs", async () => {
    await spawnAgent({
      serverUrl: cp.url,
      name: "cpu-agent",
      labels: { pool: "cpu" },
    });
    await spawnAgent({
      serverUrl: cp.url,
      name: "gpu-agent",
      labels: { gpu: "true" },
    });
    await waitForAgents(cp.clients, ["cpu-agent", "gpu-agent"]);

    const runId = await startInline(cp.clients, definition(barrier));
    const run = await waitForRun(cp.clients, runId);

    expect(run.state, run.error).toBe(RunState.SUCCESS);
    const task = (id: string) => {
      const found = run.tasks.find((t) => t.id === id);
      if (!found) throw new Error(`no task ${id}`);
      return found;
    };
    for (const t of run.tasks)
      expect(t.state, `${t.id}: ${t.error}`).toBe(TaskState.SUCCESS);

    // Outputs passed between tasks, through templates.
    expect(task("extract").output).toMatchObject({ rows: 20 });
    expect(task("left").output).toMatchObject({ n: 21 });
    expect(task("right").output).toMatchObject({ n: 22 });
    expect(task("join").output).toMatchObject({ total: 43 });
    expect(task("on_gpu").output).toMatchObject({ received: 43 });

    // Placement: the pinned task ran on the labelled agent, once.
    expect(task("on_gpu").attempts).toHaveLength(1);
    expect(task("on_gpu").attempts[0]?.agentName).toBe("gpu-agent");

    // Order: no task started before each of its upstream tasks succeeded.
    const events = await runEventsOf(cp.clients, runId);
    const at = (taskId: string, state: TaskState) => {
      const e = events.find((x) => x.taskId === taskId && x.state === state);
      if (!e) throw new Error(`no ${TaskState[state]} event for ${taskId}`);
      return e.sequence;
    };
    for (const t of run.tasks) {
      for (const upstream of t.dependsOn) {
        expect(at(t.id, TaskState.RUNNING)).toBeGreaterThan(
          at(upstream, TaskState.SUCCESS),
        );
      }
    }
  });

  it("fails the run when a task fails, and its dependents never start", async () => {
    await spawnAgent({ serverUrl: cp.url, name: "solo" });
    await waitForAgents(cp.clients, ["solo"]);
    const runId = await startInline(cp.clients, {
      name: "fails",
      tasks: [
        { id: "boom", type: "shell", command: "echo broken >&2; exit 3" },
        {
          id: "after",
          type: "shell",
          depends_on: ["boom"],
          command: "echo never",
        },
        { id: "aside", type: "shell", command: "echo independent" },
      ],
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.FAILED);
    const byId = new Map(run.tasks.map((t) => [t.id, t]));
    expect(byId.get("boom")?.state).toBe(TaskState.FAILED);
    expect(byId.get("boom")?.exitCode).toBe(3);
    expect(byId.get("boom")?.error).toContain("exited with code 3");
    expect(byId.get("after")?.state).toBe(TaskState.UPSTREAM_FAILED);
    expect(byId.get("after")?.attempts).toHaveLength(0);
    expect(byId.get("aside")?.state).toBe(TaskState.SUCCESS);
  });
});
