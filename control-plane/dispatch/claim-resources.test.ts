import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { testBackends } from "../../test/support/test-database.js";
import { agents, type Db, leases } from "../db/index.js";
import { promoteDueRetries } from "../leases/expire-leases.js";
import { revokeLease } from "../leases/revoke-lease.js";
import { explainTask } from "../runs/explain-task.js";
import {
  ACK_DEADLINE_MS,
  agent,
  at,
  claim,
  LEASE_TTL_MS,
  report,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { claimTasks } from "./claim-tasks.js";

const GiB = 2 ** 30;

/**
 * Stores an agent's row as its Hello would: Resources as JSON, int64s as
 * strings and zeros (GPU index 0) left out.
 */
async function registered(
  db: Db,
  agentId: string,
  resources: JsonObject,
): Promise<void> {
  await db.insert(agents).values({
    id: agentId,
    name: agentId,
    labels: {},
    detectedLabels: {},
    resources,
    slots: 100,
    taskTypes: [{ type: "shell" }],
    state: "CONNECTED",
  });
}

/** A claim of up to 10 tasks, with its dryness (claim() gives tasks only). */
function wholeClaim(db: Db, agentId: string, now: number) {
  return db.transaction((tx) =>
    claimTasks(tx, agent(agentId), {
      limit: 10,
      leaseTtlMs: LEASE_TTL_MS,
      ackDeadlineMs: ACK_DEADLINE_MS,
      now: at(now),
    }),
  );
}

const A100 = { type: "NVIDIA A100-SXM4-40GB", memoryBytes: String(40 * GiB) };
const H100 = { type: "NVIDIA H100 80GB HBM3", memoryBytes: String(80 * GiB) };

describe.each(testBackends())("claims with resources on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("takes a task only while the agent has the cpu and memory free", async () => {
    await registered(t.db, "agent-1", {
      cpuMillis: "4000",
      memoryBytes: String(8 * GiB),
    });
    await start(
      t.db,
      workflow(
        task("big-1", { resources: { cpu: "3", memory: "2Gi" } }),
        task("big-2", { resources: { cpu: "3" } }),
        task("light"),
        task("fat", { resources: { memory: "7Gi" } }),
      ),
    );
    const first = await claim(t.db, agent(), at(1));
    expect(first.map((a) => a.taskId).sort()).toEqual(["big-1", "light"]);
    const big = first.find((a) => a.taskId === "big-1");
    expect(big?.resources).toEqual({
      cpu_millis: 3000,
      memory_bytes: 2 * GiB,
      gpus: [],
      storage_bytes: 0,
    });
    // 1 CPU and 6 GiB are left: neither other task fits now.
    expect(await claim(t.db, agent(), at(2))).toEqual([]);
    if (!big) throw new Error("big-1 was not claimed");
    await report(t.db, big, {}, at(3));
    // All of it is free again: 3 CPUs and 7 GiB fit side by side.
    const next = await claim(t.db, agent(), at(4));
    expect(next.map((a) => a.taskId).sort()).toEqual(["big-2", "fat"]);
  });

  it("hands out GPUs by index, of the type and memory asked for", async () => {
    await registered(t.db, "agent-1", {
      cpuMillis: "64000",
      gpus: [A100, { ...H100, index: 1 }, { ...H100, index: 2 }],
    });
    await start(
      t.db,
      workflow(
        task("pair", {
          priority: 3,
          resources: { gpu: { count: 2, type: "h100" } },
        }),
        task("large", {
          priority: 2,
          resources: { gpu: { count: 1, memory: "60Gi" } },
        }),
        task("any", { priority: 1, resources: { gpu: 1 } }),
      ),
    );
    const claimed = await claim(t.db, agent(), at(1));
    const indexes = Object.fromEntries(
      claimed.map((a) => [a.taskId, a.resources?.gpus.map((g) => g.index)]),
    );
    // "large" wants 60 GiB: only the H100s have it, and "pair" took both.
    expect(indexes).toEqual({ pair: [1, 2], any: [0] });
    const pair = claimed.find((a) => a.taskId === "pair");
    const [stored] = await t.db
      .select({ resources: leases.resources })
      .from(leases)
      .where(eq(leases.id, pair?.leaseId ?? ""));
    expect(stored?.resources?.gpus).toEqual([
      { index: 1, type: H100.type, memory_bytes: 80 * GiB },
      { index: 2, type: H100.type, memory_bytes: 80 * GiB },
    ]);
    if (!pair) throw new Error("pair was not claimed");
    await report(t.db, pair, {}, at(2));
    const after = await claim(t.db, agent(), at(3));
    expect(after.map((a) => [a.taskId, a.resources?.gpus[0]?.index])).toEqual([
      ["large", 1],
    ]);
  });

  it("passes over tasks it has no room for now, to take those behind them", async () => {
    await registered(t.db, "agent-1", { gpus: [A100] });
    await start(
      t.db,
      workflow(
        task("gpu-1", { priority: 9, resources: { gpu: 1 } }),
        task("gpu-2", { priority: 9, resources: { gpu: 1 } }),
        task("gpu-3", { priority: 9, resources: { gpu: 1 } }),
        task("cpu-1"),
        task("cpu-2"),
      ),
    );
    const taken: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const claimed = await claim(t.db, agent(), at(1 + i), 2);
      taken.push(...claimed.map((a) => a.taskId));
    }
    expect(taken).toEqual(["gpu-1", "cpu-1", "cpu-2"]);
  });

  it("is not dry while tasks wait only for its free resources", async () => {
    await registered(t.db, "agent-1", { cpuMillis: "2000" });
    await registered(t.db, "agent-small", { cpuMillis: "500" });
    await start(
      t.db,
      workflow(
        task("one", { resources: { cpu: "2" } }),
        task("two", { resources: { cpu: "2" } }),
      ),
    );
    const claimOnce = (agentId: string) => wholeClaim(t.db, agentId, 1);
    const first = await claimOnce("agent-1");
    expect(first.assignments.map((a) => a.taskId)).toEqual(["one"]);
    const second = await claimOnce("agent-1");
    // "two" fits the agent once "one" ends: not dry.
    expect(second).toMatchObject({ assignments: [], ranDry: false });
    // An agent that never has 2 CPUs finds nothing, and is dry.
    const small = await claimOnce("agent-small");
    expect(small).toMatchObject({ assignments: [], ranDry: true });
  });

  it("keeps a revoked attempt's GPU until the agent says it stopped", async () => {
    await registered(t.db, "agent-1", { gpus: [A100] });
    await start(
      t.db,
      workflow(
        task("first", { resources: { gpu: 1 } }),
        task("second", { resources: { gpu: 1 } }),
      ),
    );
    const [first] = await claim(t.db, agent(), at(1));
    expect(first?.taskId).toBe("first");
    await revokeLease(t.db, first?.leaseId ?? "", "test", at(2));
    // The revoked attempt may still hold the GPU: nothing else gets it.
    expect(await claim(t.db, agent(), at(3))).toEqual([]);
    await t.db
      .update(leases)
      .set({ stoppedAt: at(4) })
      .where(eq(leases.id, first?.leaseId ?? ""));
    const next = await claim(t.db, agent(), at(5));
    expect(next.map((a) => a.resources?.gpus[0]?.index)).toEqual([0]);
  });

  it("holds what a waiting request lacks for it, not giving it to smaller tasks behind", async () => {
    await registered(t.db, "agent-1", {
      cpuMillis: "8000",
      gpus: [A100, { ...A100, index: 1 }],
    });
    await start(
      t.db,
      workflow(
        task("first", { priority: 5, resources: { gpu: 1 } }),
        task("pair", { priority: 3, resources: { gpu: 2 } }),
        task("small-1", { priority: 1, resources: { gpu: 1 } }),
        task("small-2", { priority: 1, resources: { gpu: 1 } }),
        task("cpu-only", { priority: 1, resources: { cpu: "1" } }),
        task("plain", { priority: 1 }),
      ),
    );
    const [first] = await claim(t.db, agent(), at(1), 1);
    expect(first?.taskId).toBe("first");
    // "pair" waits for the second GPU: the 1-GPU tasks behind it do not
    // take it; what asks for no GPU still runs.
    const claimOnce = (now: number) => wholeClaim(t.db, "agent-1", now);
    const meanwhile = await claimOnce(2);
    expect(meanwhile.assignments.map((a) => a.taskId).sort()).toEqual([
      "cpu-only",
      "plain",
    ]);
    expect(meanwhile).toMatchObject({ ranDry: false, waitsForRoom: true });
    // Explain says why "small-1" waits though a GPU is free.
    const runId = first?.runId ?? "";
    const small = await explainTask(t.db, runId, "small-1", at(2));
    expect(small?.agents["agent-1"]).toBe(
      "resources kept for task pair, queued ahead of it",
    );
    expect(small?.summary).toBe(
      "1 agent fits; what it asks for is kept for tasks queued ahead " +
        "that wait for more (agent-1: task pair)",
    );
    if (!first) throw new Error("first was not claimed");
    await report(t.db, first, {}, at(3));
    const next = await claimOnce(4);
    expect(
      next.assignments.map((a) => [a.taskId, a.resources?.gpus.length]),
    ).toEqual([["pair", 2]]);
  });

  it("finds the waiting request in claim order, behind many it never fits", async () => {
    await registered(t.db, "agent-1", { gpus: [A100, { ...A100, index: 1 }] });
    const held = await start(
      t.db,
      workflow(task("held", { priority: 5, resources: { gpu: 1 } })),
      at(0),
    );
    const [first] = await claim(t.db, agent(), at(1), 1);
    expect(first?.taskId).toBe("held");
    const pair = await start(
      t.db,
      workflow(task("pair", { priority: 3, resources: { gpu: 2 } })),
      at(2),
    );
    // More than a claim looks at of requests no agent has room for,
    // in a run whose id sorts before the pair's: not first in claim
    // order, but first by run id.
    const never = workflow(
      ...Array.from({ length: 101 }, (_, i) =>
        task(`never-${i}`, { resources: { gpu: 4 } }),
      ),
    );
    for (let i = 0; ; i += 1) {
      const run = await start(t.db, never, at(3));
      if (run.runId < pair.runId) break;
      if (i > 50) throw new Error("no run id sorted before the pair's");
    }
    await start(
      t.db,
      workflow(task("small", { priority: 1, resources: { gpu: 1 } })),
      at(4),
    );
    expect(await claim(t.db, agent(), at(5))).toEqual([]);
    expect(held.runId).not.toBe(pair.runId);
  });

  it("keeps nothing for a request its run's concurrency holds back", async () => {
    await registered(t.db, "agent-1", { gpus: [A100, { ...A100, index: 1 }] });
    await start(
      t.db,
      workflow(task("first", { priority: 9, resources: { gpu: 1 } })),
      at(0),
    );
    expect((await claim(t.db, agent(), at(1), 1)).map((a) => a.taskId)).toEqual(
      ["first"],
    );
    const full = await start(
      t.db,
      {
        ...workflow(
          task("hold", { priority: 5 }),
          task("pair", { priority: 3, resources: { gpu: 2 } }),
        ),
        concurrency: 1,
      },
      at(2),
    );
    expect((await claim(t.db, agent(), at(3), 1)).map((a) => a.taskId)).toEqual(
      ["hold"],
    );
    const { runId } = await start(
      t.db,
      workflow(task("small", { priority: 1, resources: { gpu: 1 } })),
      at(4),
    );
    // "pair" cannot start while "hold" fills its run: the free GPU is not
    // kept for it, and explain does not say it is.
    const explained = await explainTask(t.db, runId, "small", at(5));
    expect(explained?.agents["agent-1"]).toMatch(/^fits/);
    const claimed = await claim(t.db, agent(), at(5));
    expect(claimed.map((a) => [a.taskId, a.resources?.gpus[0]?.index])).toEqual(
      [["small", 1]],
    );
    expect(full.runId).not.toBe(runId);
  });

  it("keeps nothing for a request whose killed attempt may still run", async () => {
    const gpus = [0, 1, 2, 3].map((index) => ({ ...A100, index }));
    await registered(t.db, "agent-1", { gpus });
    await start(
      t.db,
      workflow(
        task("triple", {
          priority: 3,
          resources: { gpu: 3 },
          retry: { max_attempts: 2, initial_delay: 0 },
        }),
      ),
      at(0),
    );
    const [triple] = await claim(t.db, agent(), at(1));
    expect(triple?.taskId).toBe("triple");
    // Taken back: queued again at once, but not handed out until its
    // attempt says it stopped, which still holds three GPUs till then.
    await revokeLease(t.db, triple?.leaseId ?? "", "test", at(2));
    expect(await promoteDueRetries(t.db, at(2))).toBe(1);
    await start(
      t.db,
      workflow(task("small", { priority: 1, resources: { gpu: 1 } })),
      at(3),
    );
    const claimed = await claim(t.db, agent(), at(4));
    expect(claimed.map((a) => a.taskId)).toEqual(["small"]);
  });

  it("holds for a request that an earlier task of the same claim left short", async () => {
    await registered(t.db, "agent-1", {
      gpus: [A100, { ...A100, index: 1 }],
    });
    await start(
      t.db,
      workflow(
        task("one", { priority: 3, resources: { gpu: 1 } }),
        task("pair", { priority: 2, resources: { gpu: 2 } }),
        task("small", { priority: 1, resources: { gpu: 1 } }),
      ),
    );
    const claimed = await claim(t.db, agent(), at(1));
    expect(claimed.map((a) => a.taskId)).toEqual(["one"]);
  });

  it("gives an unknown agent nothing that asks for resources", async () => {
    await start(
      t.db,
      workflow(task("needs", { resources: { cpu: "1" } }), task("free")),
    );
    const claimed = await claim(t.db, agent("nobody"), at(1));
    expect(claimed.map((a) => a.taskId)).toEqual(["free"]);
  });
});
