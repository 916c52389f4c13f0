import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApiClients } from "../../cli/api-clients.js";
import { AgentState } from "../../gen/deerflow/v1/agent_pb.js";
import { TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
  waitForOutput,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForTaskState } from "../support/watch-run.js";

async function stateOf(clients: ApiClients, name: string) {
  const { agents } = await clients.agents.listAgents({
    includeDisconnected: true,
  });
  return agents.find((a) => a.name === name)?.state;
}

describe.each(testBackends())("a signalled agent on $name", (backend) => {
  let cp: TestControlPlane;
  let scratch: string;
  let release: string;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
    scratch = await mkdtemp(join(tmpdir(), "deerflow-drain-state-"));
    release = join(scratch, "release");
  });
  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("shows as DRAINING while it finishes its attempts, then DISCONNECTED", async () => {
    const agent = await spawnAgent({
      serverUrl: cp.url,
      name: "leaving",
      slots: 1,
      args: ["--drain-grace-ms", "600000"],
    });
    await waitForAgents(cp.clients, ["leaving"]);
    const runId = await startInline(cp.clients, {
      name: "drain-state",
      // Runs until the test has seen the agent DRAINING.
      tasks: [
        {
          id: "slow",
          type: "shell",
          command: `while [ ! -e '${release}' ]; do sleep 0.05; done`,
        },
      ],
    });
    await waitForTaskState(cp.clients, runId, "slow", TaskState.RUNNING, 1);
    expect(await stateOf(cp.clients, "leaving")).toBe(AgentState.CONNECTED);

    agent.kill("SIGTERM");
    await waitForOutput(agent, /"msg":"draining"/);
    await pollUntil(
      async () =>
        (await stateOf(cp.clients, "leaving")) === AgentState.DRAINING
          ? true
          : undefined,
      "the agent shown as DRAINING",
    );
    await writeFile(release, "");
    expect(await agent.exited).toBe(0);
    const { run } = await cp.clients.runs.getRun({ runId });
    expect(run?.tasks[0]?.state).toBe(TaskState.SUCCESS);
    await pollUntil(
      async () =>
        (await stateOf(cp.clients, "leaving")) === AgentState.DISCONNECTED
          ? true
          : undefined,
      "the agent shown as DISCONNECTED",
    );
  });
});
