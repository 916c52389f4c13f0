/** What the tests of agentLacks and queuedSummary fit agents against. */
import { advertisedRoom } from "../dispatch/agent-resources.js";
import type { FitRun, FitTask } from "./agent-lacks.js";

/** A shell task that asks for nothing in particular. */
export const TASK: FitTask = {
  type: "shell",
  nodeSelector: {},
  affinity: null,
  requests: null,
};

/** 4 CPUs, 8 GiB and one A100 of 40 GiB (index 0). */
export const ROOM = advertisedRoom({
  cpuMillis: "4000",
  memoryBytes: String(8 * 2 ** 30),
  gpus: [{ type: "NVIDIA A100-SXM4-40GB", memoryBytes: String(40 * 2 ** 30) }],
});

/** A run without a concurrency limit. */
export const RUN: FitRun = { concurrency: null, heldLeases: 0 };
