import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from "vitest";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/**
 * No GPU here: a stand-in `nvidia-smi` on the agent's PATH answers the
 * agent's query as the real one does on a host with an A100 (index 0)
 * and an H100 (index 1). Everything past the probe is real: the Hello,
 * the claim's matching and allocation, and the shell plugin's
 * CUDA_VISIBLE_DEVICES.
 */
const STAND_IN_NVIDIA_SMI = `#!/bin/sh
printf '0, NVIDIA A100-SXM4-40GB, 40960\\n1, NVIDIA H100 80GB HBM3, 81559\\n'
`;

/** A task that records the GPUs it was given as its output `gpus`. */
const gpuTask = (id: string, gpu: unknown, more: object = {}) => ({
  id,
  type: "shell",
  command:
    'sleep 0.3; echo "gpus=x$CUDA_VISIBLE_DEVICES" >> "$DEERFLOW_OUTPUT"',
  resources: { gpu },
  ...more,
});

describe.each(testBackends())(
  "resource placement on $name (stand-in nvidia-smi)",
  (backend) => {
    let cp: TestControlPlane;
    let binDir = "";

    beforeAll(async () => {
      binDir = await mkdtemp(join(tmpdir(), "deerflow-gpu-host-"));
      await writeFile(join(binDir, "nvidia-smi"), STAND_IN_NVIDIA_SMI);
      await chmod(join(binDir, "nvidia-smi"), 0o755);
    });

    afterAll(async () => {
      await rm(binDir, { recursive: true, force: true });
    });

    beforeEach(async () => {
      cp = await startTestControlPlane(backend);
      await spawnAgent({
        serverUrl: cp.url,
        name: "gpu-host",
        env: { PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}` },
      });
      await spawnAgent({ serverUrl: cp.url, name: "plain" });
      await waitForAgents(cp.clients, ["gpu-host", "plain"]);
    });

    afterEach(async () => {
      await stopAllAgents();
      await cp.close();
    });

    it("runs GPU tasks only on the GPU host, each on the GPUs it was given", async () => {
      const runId = await startInline(cp.clients, {
        name: "gpus",
        tasks: [
          gpuTask("h100", { type: "nvidia-h100" }),
          gpuTask("both", 2),
          gpuTask("roomy", { memory: "30Gi" }),
          ...[1, 2, 3, 4].map((n) => ({
            id: `cpu-${n}`,
            type: "shell",
            command: "echo anywhere",
          })),
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      const task = (id: string) => run.tasks.find((t) => t.id === id);
      for (const id of ["h100", "both", "roomy"]) {
        expect(task(id)?.state).toBe(TaskState.SUCCESS);
        expect(task(id)?.attempts.map((a) => a.agentName)).toEqual([
          "gpu-host",
        ]);
      }
      expect(task("h100")?.output).toMatchObject({ gpus: "x1" });
      // GetRun shows each attempt's allocation; tasks that ask for none
      // have none.
      const given = (id: string) =>
        task(id)?.attempts[0]?.resources?.gpus.map((g) => [g.index, g.type]);
      // As the agent names them: nvidia-smi's, lower case, hyphened.
      expect(given("h100")).toEqual([[1, "nvidia-h100-80gb-hbm3"]]);
      expect(given("both")).toEqual([
        [0, "nvidia-a100-sxm4-40gb"],
        [1, "nvidia-h100-80gb-hbm3"],
      ]);
      expect(task("cpu-1")?.attempts[0]?.resources).toBeUndefined();
      expect(task("both")?.output).toMatchObject({ gpus: "x0,1" });
      // Either GPU has 30 GiB; it got one of them, alone.
      expect(["x0", "x1"]).toContain(task("roomy")?.output?.gpus);
    });

    it("explains a task no agent has the resources for", async () => {
      const runId = await startInline(cp.clients, {
        name: "too-big",
        tasks: [
          gpuTask("three", 3),
          gpuTask("a100s", { count: 2, type: "a100" }),
        ],
      });
      try {
        const three = await cp.clients.runs.explainTask({
          runId,
          taskId: "three",
        });
        expect(three.summary).toBe(
          "no agent has the resources the task asks for among the 2 agents " +
            "that otherwise fit (gpu-host: 3 gpus (2 in all); plain: 3 gpus (0 in all))",
        );
        const a100s = await cp.clients.runs.explainTask({
          runId,
          taskId: "a100s",
        });
        expect(a100s.agents["gpu-host"]).toBe(
          "too small: asks 2 a100 gpus (1 in all)",
        );
      } finally {
        await cp.clients.runs.cancelRun({ runId, reason: "test over" });
      }
    });
  },
);
