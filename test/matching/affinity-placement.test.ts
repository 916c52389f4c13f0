import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
 * Declared labels: detected ones (gpu_count, cpu_count) are the same for
 * two agents on one host, and may not be contradicted.
 */
const LARGE = { tier: "large", mem_gi: "64" };
const SMALL = { tier: "small", mem_gi: "8", spot: "true" };

/** Each task, its affinity, and the one agent whose labels match it. */
const PLACEMENT = [
  ["big-mem", [{ key: "mem_gi", operator: "Gt", values: [32] }], "large"],
  ["small-mem", [{ key: "mem_gi", operator: "Lt", values: ["16"] }], "small"],
  ["on-spot", [{ key: "spot", operator: "Exists" }], "small"],
  ["off-spot", [{ key: "spot", operator: "DoesNotExist" }], "large"],
  ["large-tier", [{ key: "tier", operator: "In", values: ["large"] }], "large"],
  [
    "not-large",
    [
      { key: "tier", operator: "NotIn", values: ["large", "medium"] },
      { key: "mem_gi", operator: "Gt", values: ["4"] },
    ],
    "small",
  ],
] as const;

describe.each(testBackends())("affinity placement on $name", (backend) => {
  let cp: TestControlPlane;

  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });

  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("gives each of two agents only the tasks whose affinity it matches", async () => {
    await spawnAgent({ serverUrl: cp.url, name: "large", labels: LARGE });
    await spawnAgent({ serverUrl: cp.url, name: "small", labels: SMALL });
    await waitForAgents(cp.clients, ["large", "small"]);
    // Twice each, so both agents have choices among queued tasks.
    const tasks = [1, 2].flatMap((n) =>
      PLACEMENT.map(([id, affinity]) => ({
        id: `${id}-${n}`,
        type: "shell",
        command: "echo placed",
        affinity,
      })),
    );
    const runId = await startInline(cp.clients, { name: "placed", tasks });
    const run = await waitForRun(cp.clients, runId);

    expect(run.state, run.error).toBe(RunState.SUCCESS);
    const ranOn = Object.fromEntries(
      run.tasks.map((t) => [t.id, t.attempts.map((a) => a.agentName)]),
    );
    const expected = Object.fromEntries(
      tasks.map((t) => {
        const agent = PLACEMENT.find(([id]) => t.id.startsWith(`${id}-`));
        return [t.id, [agent?.[2]]];
      }),
    );
    expect(ranOn).toEqual(expected);
    for (const t of run.tasks) expect(t.state).toBe(TaskState.SUCCESS);
    // The run's view shows each task's affinity as it was defined.
    const shown = run.tasks.find((t) => t.id === "not-large-1");
    expect(
      shown?.affinity.map(({ key, operator, values }) => ({
        key,
        operator,
        values,
      })),
    ).toEqual(PLACEMENT.find(([id]) => id === "not-large")?.[1]);
  });

  it("refuses a bad affinity at submit, naming the task and field", async () => {
    const error = await startInline(cp.clients, {
      name: "refused",
      tasks: [
        {
          id: "gpu",
          type: "shell",
          command: "echo never",
          affinity: [
            { key: "gpu_count", operator: "Gte", values: ["1"] },
            { key: "spot", operator: "Exists", values: ["true"] },
          ],
        },
      ],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    const { code, rawMessage } = error as ConnectError;
    expect(code).toBe(Code.InvalidArgument);
    expect(rawMessage).toContain(
      'task gpu: affinity[0].operator: unknown operator "Gte" ' +
        "(known: In, NotIn, Exists, DoesNotExist, Gt, Lt)",
    );
    expect(rawMessage).toContain(
      "task gpu: affinity[1].values: Exists takes no values",
    );
  });
});
