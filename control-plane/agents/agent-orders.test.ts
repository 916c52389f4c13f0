import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { Channels } from "../notify/channels.js";
import { at, listenFor, useTestDatabase } from "../test-support.js";
import { drainAgent, findAgent, setCordoned } from "./agent-orders.js";
import { disconnectAgent, registerAgent } from "./register-agent.js";

const profile = (agentId: string, name: string) => ({
  agentId,
  name,
  version: "1",
  labels: {},
  detectedLabels: {},
  resources: {},
  slots: 1,
  taskTypes: [{ type: "shell" }],
});

describe.each(testBackends())("agent orders on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("finds an agent by id, or by a name only one agent has", async () => {
    await registerAgent(
      t.db,
      profile("id-1", "twin"),
      { sessionId: "s1", replicaId: "r" },
      [],
      at(1),
    );
    expect(await findAgent(t.db, "twin")).toMatchObject({ kind: "found" });
    await registerAgent(
      t.db,
      profile("id-2", "twin"),
      { sessionId: "s2", replicaId: "r" },
      [],
      at(1),
    );
    expect(await findAgent(t.db, "twin")).toEqual({
      kind: "ambiguous",
      count: 2,
    });
    expect(await findAgent(t.db, "id-2")).toMatchObject({
      kind: "found",
      agent: { id: "id-2" },
    });
    expect(await findAgent(t.db, "ghost")).toEqual({ kind: "not_found" });
    await registerAgent(
      t.db,
      profile("5f1c2d3e-0000-4000-8000-000000000001", "solo"),
      { sessionId: "s3", replicaId: "r" },
      [],
      at(1),
    );
    expect(await findAgent(t.db, "5f1c2d3e")).toMatchObject({
      kind: "found",
      agent: { name: "solo" },
    });
    expect(await findAgent(t.db, "5f1c")).toEqual({ kind: "not_found" });
  });

  it("cordons across restarts, uncordons, and drains, telling the session", async () => {
    await registerAgent(
      t.db,
      profile("id-1", "a"),
      { sessionId: "s1", replicaId: "r" },
      [],
      at(1),
    );
    const order = await listenFor(t.database, Channels.agentCommand);
    try {
      expect(await setCordoned(t.db, "id-1", true)).toMatchObject({
        state: "CORDONED",
        cordoned: true,
      });
      expect(JSON.parse(await order.received)).toEqual({
        kind: "cordon",
        agentId: "id-1",
        cordoned: true,
      });
    } finally {
      await order.stop();
    }
    await disconnectAgent(t.db, "id-1", "s1");
    const back = await registerAgent(
      t.db,
      profile("id-1", "a"),
      { sessionId: "s2", replicaId: "r" },
      [],
      at(2),
    );
    expect(back.cordoned).toBe(true);
    expect(await setCordoned(t.db, "id-1", false)).toMatchObject({
      state: "CONNECTED",
      cordoned: false,
    });
    expect(await drainAgent(t.db, "id-1", 5000)).toMatchObject({
      state: "DRAINING",
      cordoned: true,
    });
  });
});
