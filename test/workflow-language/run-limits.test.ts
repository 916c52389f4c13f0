import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

function ms(t: { seconds: bigint; nanos: number } | undefined): number {
  return Number(t?.seconds ?? 0n) * 1000 + (t?.nanos ?? 0) / 1e6;
}

describe.each(testBackends())("run-level limits on $name", (backend) => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
    await spawnAgent({ serverUrl: cp.url, name: "roomy", slots: 6 });
    await waitForAgents(cp.clients, ["roomy"]);
  });
  afterAll(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("runs at most `concurrency` tasks of a run at once, though the agent has room for more", async () => {
    const runId = await startInline(cp.clients, {
      name: "two-at-a-time",
      concurrency: 2,
      tasks: Array.from({ length: 6 }, (_, i) => ({
        id: `t${i}`,
        type: "shell",
        command: "sleep 0.4",
      })),
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    // From the recorded attempts: the most that ever ran at the same time.
    const edges = run.tasks.flatMap((t) => {
      const a = t.attempts[0];
      return [
        { at: ms(a?.startedAt), delta: 1 },
        { at: ms(a?.finishedAt), delta: -1 },
      ];
    });
    edges.sort((x, y) => x.at - y.at || x.delta - y.delta);
    let running = 0;
    let most = 0;
    for (const edge of edges) {
      running += edge.delta;
      most = Math.max(most, running);
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThan(0);
  });

  it("fails a run that outlives its timeout, killing what still runs", async () => {
    const runId = await startInline(cp.clients, {
      name: "too-slow",
      timeout: 1,
      tasks: [
        { id: "quick", type: "shell", command: "true" },
        {
          id: "slow",
          type: "shell",
          command: "sleep 120",
          depends_on: ["quick"],
        },
      ],
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.FAILED);
    expect(run.error).toBe("the run exceeded its timeout of 1 s");
    expect(run.tasks.find((t) => t.id === "quick")?.state).toBe(
      TaskState.SUCCESS,
    );
    expect(run.tasks.find((t) => t.id === "slow")?.state).toBe(
      TaskState.KILLED,
    );
  });
});
