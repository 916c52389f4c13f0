import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
  waitForOutput,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import {
  killTrackedRunProcesses,
  processesOfRun,
  trackRunProcesses,
} from "../support/run-processes.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForTaskState } from "../support/watch-run.js";

// The agent's own signal handling does not depend on the backend.
const [backend] = testBackends();

describe.runIf(backend)(`an agent signalled twice, on ${backend?.name}`, () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    if (backend) cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    await stopAllAgents();
    await killTrackedRunProcesses();
    await cp?.close();
  });

  it("stops every attempt's processes before it exits, even ones that ignore SIGTERM", async () => {
    const agent = await spawnAgent({
      serverUrl: cp.url,
      name: "twice",
      slots: 2,
      // A drain far longer than the test: only the second signal ends it.
      args: ["--drain-grace-ms", "600000"],
      env: { DEERFLOW_KILL_GRACE_MS: "1000" },
    });
    await waitForAgents(cp.clients, ["twice"]);
    const runId = await startInline(cp.clients, {
      name: "second-signal",
      tasks: [
        { id: "stubborn", type: "shell", command: "trap '' TERM; sleep 77" },
        { id: "plain", type: "shell", command: "sleep 78" },
      ],
    });
    trackRunProcesses(runId);
    for (const id of ["stubborn", "plain"]) {
      await waitForTaskState(cp.clients, runId, id, TaskState.RUNNING, 1);
    }
    await pollUntil(
      async () =>
        (await processesOfRun(runId)).length >= 4 ? true : undefined,
      "both attempts' shells and sleeps",
    );

    agent.kill("SIGTERM");
    await waitForOutput(agent, /"msg":"draining"/);
    agent.kill("SIGTERM");
    expect(await agent.exited).toBe(130);
    expect(await processesOfRun(runId)).toEqual([]);
  });
});
