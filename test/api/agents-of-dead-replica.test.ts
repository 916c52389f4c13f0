import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerAgent } from "../../control-plane/agents/register-agent.js";
import { replicas } from "../../control-plane/db/index.js";
import { AgentState } from "../../gen/deerflow/v1/agent_pb.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const [pglite] = testBackends();

describe("agents of a replica that died", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
  });
  afterAll(() => cp?.close());

  it("are listed DISCONNECTED once their replica stops being seen", async () => {
    const { db } = cp.controlPlane.database;
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await db
      .insert(replicas)
      .values({ id: "killed", startedAt: longAgo, lastSeenAt: longAgo });
    await registerAgent(
      db,
      {
        agentId: "orphan-agent",
        name: "orphan",
        version: "1",
        labels: {},
        detectedLabels: {},
        resources: {},
        slots: 1,
        taskTypes: [{ type: "shell" }],
      },
      { sessionId: "s-killed", replicaId: "killed" },
      [],
      longAgo,
    );
    const { agents } = await cp.clients.agents.listAgents({
      includeDisconnected: true,
    });
    expect(agents.find((a) => a.id === "orphan-agent")?.state).toBe(
      AgentState.DISCONNECTED,
    );
    const { agent } = await cp.clients.agents.getAgent({ agent: "orphan" });
    expect(agent?.state).toBe(AgentState.DISCONNECTED);
  });
});
