import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { agents } from "../db/index.js";
import { useTestDatabase } from "../test-support.js";
import { loadTaskTypeCatalog } from "./task-type-catalog.js";

describe.each(testBackends())("loadTaskTypeCatalog on $name", (backend) => {
  const t = useTestDatabase(backend);

  /** An agent row advertising `echo` with a schema whose `v` has `type`. */
  function agentWithEcho(
    id: string,
    type: string,
    state: "CONNECTED" | "DISCONNECTED",
    connectedAt: Date,
    lastHeartbeatAt = connectedAt,
  ) {
    return t.db.insert(agents).values({
      id,
      name: id,
      labels: {},
      detectedLabels: {},
      resources: {},
      slots: 1,
      taskTypes: [
        {
          type: "echo",
          config_schema: { type: "object", properties: { v: { type } } },
        },
      ],
      state,
      connectedAt,
      lastHeartbeatAt,
    });
  }

  const echoField = async () =>
    (
      (await loadTaskTypeCatalog(t.db)).get("echo") as {
        properties: { v: { type: string } };
      }
    ).properties.v.type;

  it("takes a type's schema from a connected agent over a disconnected one", async () => {
    // The disconnected agent's row comes first, and was heard from last.
    await agentWithEcho("old", "string", "DISCONNECTED", new Date(2_000));
    await agentWithEcho("new", "integer", "CONNECTED", new Date(1_000));
    expect(await echoField()).toBe("integer");
  });

  it("takes it from the agent connected last among the connected, whoever beat last", async () => {
    // "a" connected first and has beaten since; "b" connected last.
    await agentWithEcho(
      "a",
      "string",
      "CONNECTED",
      new Date(1_000),
      new Date(3_000),
    );
    await agentWithEcho("b", "integer", "CONNECTED", new Date(2_000));
    expect(await echoField()).toBe("integer");
  });
});
