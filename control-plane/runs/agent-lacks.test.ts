import { describe, expect, it } from "vitest";
import { resourceRequest } from "../../workflow/index.js";
import { roomLeft } from "../dispatch/agent-resources.js";
import {
  agentLacks,
  describeLack,
  type FitAgent,
  type FitRun,
  type FitTask,
} from "./agent-lacks.js";
import { ROOM, RUN, TASK } from "./fit-test-support.js";

const AGENT: FitAgent = {
  name: "a",
  state: "CONNECTED",
  cordoned: false,
  labels: { gpu: "true", gpu_count: "2", zone: "eu-1" },
  taskTypes: ["shell", "http"],
  slots: 4,
  heldLeases: 1,
  resources: ROOM,
  freeResources: ROOM,
};

const lacks = (
  task: Partial<FitTask>,
  agent: Partial<FitAgent> = {},
  run: Partial<FitRun> = {},
) =>
  agentLacks(
    { ...TASK, ...task },
    { ...AGENT, ...agent },
    { ...RUN, ...run },
  ).map(describeLack);

describe("agentLacks", () => {
  it("finds nothing when the agent fits and has room", () => {
    expect(lacks({})).toEqual([]);
    expect(
      lacks({
        nodeSelector: { gpu: "true" },
        affinity: [{ key: "gpu_count", operator: "Gt", values: ["1"] }],
      }),
    ).toEqual([]);
  });

  it("names a type the agent does not provide", () => {
    expect(lacks({ type: "spark" })).toEqual(['does not provide type "spark"']);
  });

  it("names the selector key and the agent's value, or its absence", () => {
    expect(lacks({ nodeSelector: { gpu: "false", arch: "arm64" } })).toEqual([
      "node_selector gpu=false: agent has gpu=true",
      "node_selector arch=arm64: label arch not set",
    ]);
  });

  it("does not take a prototype name for a label", () => {
    expect(lacks({ nodeSelector: { constructor: "x" } })).toEqual([
      "node_selector constructor=x: label constructor not set",
    ]);
  });

  it("names each affinity expression that does not hold", () => {
    expect(
      lacks({
        affinity: [
          { key: "gpu_count", operator: "Gt", values: ["2"] },
          { key: "zone", operator: "In", values: ["eu-1", "eu-2"] },
          { key: "spot", operator: "Exists" },
          { key: "zone", operator: "NotIn", values: ["eu-1"] },
        ],
      }),
    ).toEqual([
      "affinity gpu_count Gt 2: agent has gpu_count=2",
      "affinity spot Exists: label spot not set",
      "affinity zone NotIn (eu-1): agent has zone=eu-1",
    ]);
  });

  it("says an agent is full when its leases take every slot", () => {
    expect(lacks({}, { heldLeases: 4 })).toEqual(["full (4 of 4 slots taken)"]);
  });

  it("says the run is at its concurrency", () => {
    expect(lacks({}, {}, { concurrency: 2, heldLeases: 2 })).toEqual([
      "run concurrency limit reached (2 of 2)",
    ]);
    expect(lacks({}, {}, { concurrency: 2, heldLeases: 1 })).toEqual([]);
  });

  it("gives a disconnected agent no slots to be full of", () => {
    expect(lacks({}, { state: "DISCONNECTED", heldLeases: 4 })).toEqual([
      "disconnected",
    ]);
  });

  it("says what an agent has too little of, in all or free now", () => {
    const requests = resourceRequest({
      cpu: "6",
      gpu: { count: 1, type: "h100" },
    });
    expect(lacks({ requests })).toEqual([
      "too small: asks cpu 6 (4 in all), 1 h100 gpu (0 in all)",
    ]);
    const fits = resourceRequest({ cpu: "1500m", memory: "6Gi", gpu: 1 });
    const busy = roomLeft(ROOM, [
      {
        cpu_millis: 3000,
        memory_bytes: 4 * 2 ** 30,
        gpus: [{ index: 0, type: "NVIDIA A100-SXM4-40GB", memory_bytes: 0 }],
        storage_bytes: 0,
      },
    ]);
    expect(lacks({ requests: fits }, { freeResources: busy })).toEqual([
      "resources in use: asks cpu 1500m (1 free), memory 6Gi (4Gi free), 1 gpu (0 free)",
    ]);
    expect(lacks({ requests: fits })).toEqual([]);
  });

  it("says when free resources are kept for a task ahead, only of what it lacks", () => {
    const waitingAhead = {
      task: "task pair",
      short: { cpu: false, memory: false, storage: false, gpu: true },
    };
    const gpu = resourceRequest({ gpu: 1 });
    const cpu = resourceRequest({ cpu: "1" });
    expect(lacks({ requests: gpu }, { waitingAhead })).toEqual([
      "resources kept for task pair, queued ahead of it",
    ]);
    expect(lacks({ requests: cpu }, { waitingAhead })).toEqual([]);
    expect(lacks({}, { waitingAhead })).toEqual([]);
  });

  it("lists every lack in the fixed order", () => {
    expect(
      lacks(
        {
          type: "spark",
          nodeSelector: { gpu: "false" },
          affinity: [{ key: "spot", operator: "Exists" }],
        },
        { state: "CORDONED", cordoned: true, heldLeases: 4 },
        { concurrency: 1, heldLeases: 1 },
      ),
    ).toEqual([
      "cordoned",
      'does not provide type "spark"',
      "node_selector gpu=false: agent has gpu=true",
      "affinity spot Exists: label spot not set",
      "full (4 of 4 slots taken)",
      "run concurrency limit reached (1 of 1)",
    ]);
    expect(lacks({}, { state: "DRAINING", cordoned: true })).toEqual([
      "draining",
    ]);
  });
});
