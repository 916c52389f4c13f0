import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentState } from "../../gen/deerflow/v1/agent_pb.js";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
  waitForOutput,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

describe.each(testBackends())("agent restarts on $name", (backend) => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("an agent killed and restarted reconnects as itself, without a server restart", async () => {
    const first = await spawnAgent({ serverUrl: cp.url, name: "phoenix" });
    await waitForAgents(cp.clients, ["phoenix"]);
    const { agent: before } = await cp.clients.agents.getAgent({
      agent: "phoenix",
    });

    first.kill("SIGKILL");
    await first.exited;
    await waitForState(cp, "phoenix", AgentState.DISCONNECTED);

    await spawnAgent({
      serverUrl: cp.url,
      name: "phoenix",
      stateDir: first.stateDir,
    });
    await waitForAgents(cp.clients, ["phoenix"]);
    const { agent: after } = await cp.clients.agents.getAgent({
      agent: "phoenix",
    });
    expect(after?.id).toBe(before?.id);

    const runId = await startInline(cp.clients, {
      name: "after-restart",
      tasks: [{ id: "ping", type: "shell", command: "echo pong" }],
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.attempts[0]?.agentId).toBe(before?.id);
  });

  it("an agent started before its server connects once the server is up", async () => {
    const port = Number(new URL(cp.url).port);
    await cp.close();
    const early = await spawnAgent({ serverUrl: cp.url, name: "early" });
    // It has tried and failed at least once before the server exists.
    await waitForOutput(early, /reconnecting/);
    cp = await startTestControlPlane(backend, { listen: `127.0.0.1:${port}` });
    await waitForAgents(cp.clients, ["early"]);
  });
});

async function waitForState(
  cp: TestControlPlane,
  name: string,
  state: AgentState,
) {
  for (;;) {
    const { agent } = await cp.clients.agents.getAgent({ agent: name });
    if (agent?.state === state) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
