import { afterEach, beforeEach, describe, expect, it } from "vitest";
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

const TASKS = 300;

describe.each(testBackends())("many short tasks on $name", (backend) => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("assigns each task once and never more than an agent has slots for", async () => {
    await spawnAgent({ serverUrl: cp.url, name: "wide", slots: 4 });
    await spawnAgent({ serverUrl: cp.url, name: "narrow", slots: 2 });
    await waitForAgents(cp.clients, ["wide", "narrow"]);
    const runId = await startInline(cp.clients, {
      name: "many",
      tasks: Array.from({ length: TASKS }, (_, i) => ({
        id: `t${i}`,
        type: "shell",
        command: "true",
      })),
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state, run.error).toBe(RunState.SUCCESS);
    expect(run.tasks.filter((t) => t.state === TaskState.SUCCESS)).toHaveLength(
      TASKS,
    );
    // An assignment beyond an agent's free slots would be rejected and
    // show up as a second attempt.
    const retried = run.tasks.filter((t) => t.attempts.length !== 1);
    expect(
      retried.map(
        (t) => `${t.id}: ${t.attempts.map((a) => a.error).join("; ")}`,
      ),
    ).toEqual([]);
    const agents = new Set(run.tasks.map((t) => t.attempts[0]?.agentName));
    expect(agents).toEqual(new Set(["wide", "narrow"]));
  });
});
