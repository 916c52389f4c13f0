import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SessionResponse } from "../../gen/deerflow/v1/agent_pb.js";
import { startInline } from "../support/runs.js";
import {
  openScriptedAgent,
  type ScriptedAgent,
} from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const isAck = (r: SessionResponse) => r.message.case === "heartbeatAck";

/** The lease ids a heartbeat's answer called stale. */
function staleIds(ack: SessionResponse): string[] {
  if (ack.message.case !== "heartbeatAck") throw new Error("not an ack");
  return ack.message.value.staleLeases.map((l) => l.leaseId);
}

describe.each(testBackends())("heartbeats on $name", (backend) => {
  let cp: TestControlPlane;
  const agents: ScriptedAgent[] = [];
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.close();
    await cp?.close();
  });

  const open = async (name: string) => {
    const agent = await openScriptedAgent(cp.url, { name, slots: 1 });
    agents.push(agent);
    return agent;
  };

  it("answers each agent its own stale leases; bad data ends one session", async () => {
    const holder = await open("holder");
    holder.send({ case: "credit", value: { freeSlots: 1 } });
    await startInline(cp.clients, {
      name: "one-task",
      tasks: [{ id: "a", type: "shell", command: "true" }],
    });
    const assignment = await holder.next(
      (r) => r.message.case === "assignment",
      "the assignment",
    );
    if (assignment.message.case !== "assignment") throw new Error("no");
    const held = assignment.message.value.lease;
    const others = [await open("other-1"), await open("other-2")];
    const bad = await open("bad");
    const unknown = () => ({ leaseId: randomUUID(), fencingToken: 1n });

    // All in one turn: they reach the control plane together.
    const holderUnknown = unknown();
    holder.send({
      case: "heartbeat",
      value: { leases: [held ?? unknown(), holderUnknown] },
    });
    const named = others.map((agent) => {
      const lease = unknown();
      agent.send({ case: "heartbeat", value: { leases: [lease] } });
      return lease.leaseId;
    });
    bad.send({
      case: "heartbeat",
      value: { leases: [{ leaseId: "not-a-lease-id", fencingToken: 1n }] },
    });

    expect(staleIds(await holder.next(isAck, "holder's ack"))).toEqual([
      holderUnknown.leaseId,
    ]);
    for (const [i, agent] of others.entries()) {
      expect(
        staleIds(await agent.next(isAck, `${agent.agentId}'s ack`)),
      ).toEqual([named[i]]);
    }
    const ended = await bad.next(isAck, "bad's ack").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(ended)).toMatch(/session ended first.*invalid_argument/);
    expect(bad.received().some(isAck)).toBe(false);
  });
});
