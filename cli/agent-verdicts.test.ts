import { describe, expect, it } from "vitest";
import { verdictRows } from "./agent-verdicts.js";

describe("verdictRows", () => {
  it("lists each agent, those that fit first, then by reason, while they fit on a screen", () => {
    const { rows, hidden } = verdictRows({
      b: "disconnected",
      c: "fits (1 of 4 slots free)",
      a: "lacks task type spark",
    });
    expect(rows).toEqual([
      ["c", "fits (1 of 4 slots free)"],
      ["b", "disconnected"],
      ["a", "lacks task type spark"],
    ]);
    expect(hidden).toBe(0);
  });

  it("groups agents with the same reason past maxRows, naming the first three", () => {
    const agents: Record<string, string> = { gpu1: "fits (2 of 2 slots free)" };
    for (let i = 0; i < 5_000; i++)
      agents[`vm${String(i).padStart(4, "0")}`] = "disconnected";
    agents.edge = "lacks labels zone=eu";
    agents.edge2 = "lacks labels zone=eu";
    const { rows, hidden } = verdictRows(agents, { maxRows: 20 });
    expect(rows).toEqual([
      ["gpu1", "fits (2 of 2 slots free)"],
      ["vm0000, vm0001, vm0002 and 4997 more", "disconnected"],
      ["edge, edge2", "lacks labels zone=eu"],
    ]);
    expect(hidden).toBe(0);
  });

  it("shows at most maxRows reasons and counts the agents left out", () => {
    const agents: Record<string, string> = {};
    for (let i = 0; i < 30; i++) {
      agents[`a${i}`] = `lacks labels n=${i}`;
      agents[`b${i}`] = `lacks labels n=${i}`;
    }
    const { rows, hidden } = verdictRows(agents, { maxRows: 20 });
    expect(rows).toHaveLength(20);
    expect(hidden).toBe(20);
  });

  it("lists every agent with all", () => {
    const agents: Record<string, string> = {};
    for (let i = 0; i < 50; i++) agents[`a${i}`] = "disconnected";
    expect(verdictRows(agents, { all: true, maxRows: 20 }).rows).toHaveLength(
      50,
    );
  });
});
