import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { useTestDatabase } from "../test-support.js";
import {
  type AgentCommand,
  Channels,
  notifyAgentCommands,
} from "./channels.js";

describe.each(testBackends())("agent commands on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("sends many orders in one statement, each once and in order, at commit", async () => {
    const seen: AgentCommand[] = [];
    let all = () => {};
    const received = new Promise<void>((resolve) => {
      all = resolve;
    });
    const commands: AgentCommand[] = Array.from({ length: 300 }, (_, i) => ({
      kind: "cancel",
      agentId: `agent-${i % 3}`,
      leaseId: `lease-${i}`,
      fencingToken: i,
      reason: "cancelled",
    }));
    const stop = await t.database.listen(Channels.agentCommand, (payload) => {
      seen.push(JSON.parse(payload));
      if (seen.length === commands.length) all();
    });
    try {
      await t.db.transaction(async (tx) => {
        await notifyAgentCommands(tx, commands);
        // Nothing is delivered before the transaction commits.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(seen).toEqual([]);
      });
      await received;
      expect(seen).toEqual(commands);
    } finally {
      await stop();
    }
  });
});
