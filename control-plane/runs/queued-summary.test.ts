import { describe, expect, it } from "vitest";
import { resourceRequest } from "../../workflow/index.js";
import { roomLeft } from "../dispatch/agent-resources.js";
import {
  agentLacks,
  type FitAgent,
  type FitRun,
  type FitTask,
} from "./agent-lacks.js";
import { ROOM, RUN, TASK } from "./fit-test-support.js";
import { queuedSummary } from "./queued-summary.js";

const agent = (name: string, more: Partial<FitAgent> = {}): FitAgent => ({
  name,
  state: "CONNECTED",
  cordoned: false,
  labels: { gpu: "false" },
  taskTypes: ["shell"],
  slots: 4,
  heldLeases: 0,
  resources: ROOM,
  freeResources: ROOM,
  ...more,
});

function summary(
  agents: FitAgent[],
  task: Partial<FitTask> = {},
  run: FitRun = RUN,
): string {
  const t = { ...TASK, ...task };
  return queuedSummary(
    t,
    agents.map((a) => ({ name: a.name, lacks: agentLacks(t, a, run) })),
    run,
  );
}

describe("queuedSummary", () => {
  it("says when no agent is known at all", () => {
    expect(summary([])).toBe(
      "no agent is known: start one with `deerflow agent`",
    );
  });

  it("puts a type no agent provides first, even before connection", () => {
    const agents = [agent("a"), agent("b", { state: "DISCONNECTED" })];
    expect(summary(agents, { type: "spark" })).toBe(
      'no agent provides type "spark" (2 agents known)',
    );
  });

  it("names the selector no agent matches", () => {
    const agents = [agent("a"), agent("b"), agent("c", { labels: {} })];
    expect(summary(agents, { nodeSelector: { gpu: "true" } })).toBe(
      "node_selector gpu=true matches no agent (3 agents known)",
    );
    const gpuSpark = agent("d", {
      labels: { gpu: "true" },
      taskTypes: ["spark"],
    });
    expect(
      summary([agent("a"), gpuSpark], { nodeSelector: { gpu: "true" } }),
    ).toBe(
      'node_selector gpu=true matches no agent that provides type "shell" ' +
        "(2 agents known)",
    );
  });

  it("names the affinity expressions that fail", () => {
    const affinity = [
      { key: "gpu_count", operator: "Gt" as const, values: ["1"] },
    ];
    expect(summary([agent("a"), agent("b")], { affinity })).toBe(
      "affinity gpu_count Gt 1 matches no agent (2 agents known)",
    );
  });

  it("says no agent is connected when none is", () => {
    const agents = [
      agent("a", { state: "DISCONNECTED" }),
      agent("b", { state: "DISCONNECTED", taskTypes: [] }),
    ];
    expect(summary(agents)).toBe(
      "no agent is connected; 1 agent fits when it is: a",
    );
    expect(summary([...agents, agent("c", { taskTypes: ["http"] })])).toBe(
      "1 agent fits, but none is connected: a",
    );
  });

  it("names agents that fit but take no new work", () => {
    const agents = [
      agent("a", { state: "CORDONED", cordoned: true }),
      agent("b", { state: "DRAINING" }),
      agent("c", { state: "DISCONNECTED" }),
    ];
    expect(summary(agents)).toBe(
      "3 agents fit; none takes new work: a (cordoned), b (draining), " +
        "c (disconnected)",
    );
  });

  it("adds up the slots of busy agents that fit", () => {
    const agents = [
      agent("a", { heldLeases: 4 }),
      agent("b", { heldLeases: 4 }),
      agent("c", { state: "DISCONNECTED" }),
    ];
    expect(summary(agents)).toBe("2 agents fit; all are busy (8 of 8 slots)");
    expect(summary([agent("a", { slots: 1, heldLeases: 1 })])).toBe(
      "1 agent fits; it is busy (1 of 1 slots)",
    );
  });

  it("says the run is at its concurrency, whatever the agents have free", () => {
    const full = { concurrency: 1, heldLeases: 1 };
    const reached =
      "the run's concurrency limit is reached (1 of 1 attempts hold leases)";
    expect(summary([agent("a")], {}, full)).toBe(reached);
    // A claim passes over the task before it looks at slots or resources.
    const busy = roomLeft(ROOM, [
      { cpu_millis: 0, memory_bytes: 0, gpus: ROOM.gpus, storage_bytes: 0 },
    ]);
    const requests = resourceRequest({ gpu: 1 });
    expect(
      summary([agent("gpu", { freeResources: busy })], { requests }, full),
    ).toBe(reached);
    expect(summary([agent("a", { heldLeases: 4 })], {}, full)).toBe(reached);
  });

  it("says which agents would take it when nothing is wrong", () => {
    expect(summary([agent("a"), agent("b", { heldLeases: 4 })])).toBe(
      "1 agent fits with free slots (a); it is taken when one of them " +
        "next asks for work, after higher-priority and older tasks",
    );
  });
  it("says when no agent that fits has the resources, or has them free", () => {
    const requests = resourceRequest({ gpu: { count: 2, type: "a100" } });
    expect(
      summary([agent("small"), agent("other", { taskTypes: [] })], {
        requests,
      }),
    ).toBe(
      "no agent has the resources the task asks for among the one agent " +
        "that otherwise fits (small: 2 a100 gpus (1 in all))",
    );
    const many = ["a", "b", "c", "d", "e"].map((n) => agent(n));
    expect(summary(many, { requests })).toBe(
      "no agent has the resources the task asks for among the 5 agents " +
        "that otherwise fit (a: 2 a100 gpus (1 in all); b: 2 a100 gpus " +
        "(1 in all); c: 2 a100 gpus (1 in all); and 2 more)",
    );
    const one = resourceRequest({ gpu: 1 });
    const busy = roomLeft(ROOM, [
      { cpu_millis: 0, memory_bytes: 0, gpus: ROOM.gpus, storage_bytes: 0 },
    ]);
    expect(
      summary([agent("gpu", { freeResources: busy })], { requests: one }),
    ).toBe(
      "1 agent fits; its resources are in use by other attempts (gpu: 1 gpu (0 free))",
    );
    expect(
      summary([agent("busy", { freeResources: busy }), agent("idle")], {
        requests: one,
      }),
    ).toMatch(/^1 agent fits with free slots \(idle\)/);
  });
});
