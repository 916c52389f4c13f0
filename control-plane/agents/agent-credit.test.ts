import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CreditSchema } from "../../gen/deerflow/v1/agent_pb.js";
import { AgentCredit } from "./agent-credit.js";

function credit(freeSlots: number, assignmentsReceived: number) {
  return create(CreditSchema, {
    freeSlots,
    assignmentsReceived: BigInt(assignmentsReceived),
  });
}

describe("AgentCredit", () => {
  it("has no room before the agent's first credit", () => {
    expect(new AgentCredit().freeSlots()).toBe(0);
  });

  it("subtracts assignments the credit had not counted", () => {
    const c = new AgentCredit();
    c.take(credit(4, 0), 8);
    c.assigned(3);
    expect(c.freeSlots()).toBe(1);
    // The agent had received two of the three when it said 2 free.
    c.take(credit(2, 2), 8);
    expect(c.freeSlots()).toBe(1);
    c.take(credit(2, 3), 8);
    expect(c.freeSlots()).toBe(2);
  });

  it("never counts more received than sent, nor negative room", () => {
    const c = new AgentCredit();
    c.assigned(1);
    c.take(credit(3, 10), 8);
    expect(c.freeSlots()).toBe(3);
    c.take(credit(-5, 1), 8);
    expect(c.freeSlots()).toBe(0);
    c.assigned(2);
    expect(c.freeSlots()).toBe(0);
  });

  it("counts results since the credit as freed slots, up to the agent's", () => {
    const c = new AgentCredit();
    c.take(credit(0, 0), 8);
    c.resultSinceCredit();
    c.resultSinceCredit();
    c.resultSinceCredit();
    expect(c.freedSinceCredit(4)).toBe(3);
    expect(c.freedSinceCredit(2)).toBe(2);
    c.take(credit(3, 0), 8);
    expect(c.freedSinceCredit(4)).toBe(0);
  });

  it("never counts more free slots than the agent's hello gave", () => {
    const c = new AgentCredit();
    c.take(credit(50, 0), 1);
    expect(c.freeSlots()).toBe(1);
  });
});
