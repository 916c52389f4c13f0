import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import type { WorkflowDefinition } from "../../workflow/index.js";
import { agents, type Db } from "../db/index.js";
import { Pipelined } from "../scheduler/pipelined.js";
import {
  ACK_DEADLINE_MS,
  LEASE_TTL_MS,
  report,
  start,
  task,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import type { ClaimedAssignment } from "./claim-tasks.js";
import { Dispatcher, type DispatchTarget, type HandOff } from "./dispatcher.js";

/** An agent's session as the dispatcher sees it, keeping what it got. */
class TestTarget implements DispatchTarget {
  readonly taskTypes = ["shell"];
  readonly labels = {};
  readonly got: string[] = [];
  readonly leases: ClaimedAssignment[] = [];

  constructor(
    readonly sessionId: string,
    private slots: number,
  ) {}

  get agentId(): string {
    return `agent-${this.sessionId}`;
  }

  accepting(): boolean {
    return true;
  }

  freeSlots(): number {
    return this.slots;
  }

  deliver(assignments: readonly ClaimedAssignment[]): void {
    this.got.push(...assignments.map((a) => a.taskId));
    this.leases.push(...assignments);
  }
}

/** Sends a hand-off's claim in `tx` and waits for its answer. */
function sendIn(tx: Db, handOff: HandOff): Promise<void> {
  const writes = new Pipelined();
  handOff.send(tx, writes);
  return writes.done();
}

describe.each(testBackends())("Dispatcher on $name", (backend) => {
  const t = useTestDatabase(backend);

  function dispatcher(): Dispatcher {
    // No idle pass during a test: each pass is asked for explicitly.
    return new Dispatcher({
      db: t.db,
      clock: systemClock,
      logger: silentLogger(),
      leaseTtlMs: LEASE_TTL_MS,
      ackDeadlineMs: ACK_DEADLINE_MS,
      idlePassIntervalMs: 3_600_000,
    });
  }

  /** A run of `definition`, and a hand-off to a free agent for it. */
  async function handOffOf(definition: WorkflowDefinition) {
    const d = dispatcher();
    const agent = new TestTarget("a", 10);
    const { runId } = await start(t.db, definition);
    const handOff = d.handOff(agent);
    if (!handOff) throw new Error("expected a hand-off for a free agent");
    return { d, agent, runId, handOff };
  }

  it("skips a dry agent's credits until tasks are queued again", async () => {
    const d = dispatcher();
    const agent = new TestTarget("a", 10);
    await start(t.db, workflow(task("first")));
    d.add(agent);
    await d.whenIdle();
    expect(agent.got).toEqual(["first"]);
    // Queued without telling this dispatcher: a credit alone does not
    // send a dry agent's claim.
    await start(t.db, workflow(task("second")));
    d.wake();
    await d.whenIdle();
    expect(agent.got).toEqual(["first"]);
    d.queueChanged();
    await d.whenIdle();
    expect(agent.got).toEqual(["first", "second"]);
  });

  /** An agent row with one GPU, as the Hello of `target` would store it. */
  async function withOneGpu(target: TestTarget): Promise<void> {
    await t.db.insert(agents).values({
      id: target.agentId,
      name: target.agentId,
      labels: {},
      detectedLabels: {},
      resources: { gpus: [{ type: "NVIDIA T4", memoryBytes: "16106127360" }] },
      slots: 10,
      taskTypes: [{ type: "shell" }],
      state: "CONNECTED",
    });
  }

  const gpuTask = (id: string) => task(id, { resources: { gpu: 1 } });

  it("waits for an agent's results, not its credits, when its GPU is taken", async () => {
    const d = dispatcher();
    const agent = new TestTarget("a", 10);
    await withOneGpu(agent);
    await start(t.db, workflow(gpuTask("g1"), gpuTask("g2")));
    d.add(agent);
    await d.whenIdle();
    expect(agent.got).toEqual(["g1"]);
    // Its next claim finds g2 waiting for the GPU g1 holds.
    d.wake();
    await d.whenIdle();
    const [g1] = agent.leases;
    if (!g1) throw new Error("g1 was not delivered");
    await report(t.db, g1, {}, new Date(), agent.agentId);
    // A credit alone does not claim: the claim passed over g2 for want
    // of a free GPU, and only the agent's results free one.
    d.wake();
    await d.whenIdle();
    expect(agent.got).toEqual(["g1"]);
    d.roomFreed(agent.sessionId);
    await d.whenIdle();
    expect(agent.got).toEqual(["g1", "g2"]);
  });

  it("does not take one agent's want of a free GPU for a like agent's", async () => {
    const d = dispatcher();
    const busy = new TestTarget("a", 10);
    const idle = new TestTarget("b", 5);
    await withOneGpu(busy);
    await withOneGpu(idle);
    await start(t.db, workflow(gpuTask("g1")));
    d.add(busy);
    await d.whenIdle();
    expect(busy.got).toEqual(["g1"]);
    await start(t.db, workflow(gpuTask("g2")));
    // The busy agent has more free slots, so it claims first, and finds
    // g2 but no free GPU; the idle agent, alike in all else, is served.
    d.add(idle);
    d.queueChanged();
    await d.whenIdle();
    expect([busy.got, idle.got]).toEqual([["g1"], ["g2"]]);
  });

  it("claims for dry agents too on the idle pass", async () => {
    const d = dispatcher();
    const agent = new TestTarget("a", 10);
    d.add(agent);
    await d.whenIdle();
    await start(t.db, workflow(task("unannounced")));
    d.wake(true);
    await d.whenIdle();
    expect(agent.got).toEqual(["unannounced"]);
  });

  it("serves an agent again after a claim that filled its slots", async () => {
    const d = dispatcher();
    const agent = new TestTarget("a", 1);
    await start(t.db, workflow(task("x"), task("y")));
    d.add(agent);
    await d.whenIdle();
    expect(agent.got).toHaveLength(1);
    // Not dry: its claim stopped at its limit. Its next credit claims.
    d.wake();
    await d.whenIdle();
    expect([...agent.got].sort()).toEqual(["x", "y"]);
  });

  it("stops a pass once the queue is empty for every agent", async () => {
    const d = dispatcher();
    const one = new TestTarget("one", 10);
    const two = new TestTarget("two", 5);
    await start(t.db, workflow(task("only")));
    d.add(one);
    d.add(two);
    await d.whenIdle();
    expect(one.got).toEqual(["only"]);
    // `two` was not asked after the queue emptied: both are dry now.
    await start(t.db, workflow(task("later")));
    d.wake();
    await d.whenIdle();
    expect([...one.got, ...two.got]).toEqual(["only"]);
    d.queueChanged();
    await d.whenIdle();
    expect([...one.got, ...two.got].sort()).toEqual(["later", "only"]);
  });

  it("delivers a claim made inside another transaction once it commits", async () => {
    const { d, agent, runId, handOff } = await handOffOf(
      workflow(task("next")),
    );
    await t.db.transaction((tx) => sendIn(tx, handOff));
    // Claimed, but not sent before the caller says its transaction ended.
    expect(agent.got).toEqual([]);
    expect(await taskStates(t.db, runId)).toEqual({ next: "ASSIGNED" });
    await handOff.finish(true);
    expect(agent.got).toEqual(["next"]);
    await d.whenIdle();
  });

  it("leaves a hand-off's tasks of a run with a concurrency to a pass", async () => {
    const { d, agent, runId, handOff } = await handOffOf({
      ...workflow(task("limited")),
      concurrency: 1,
    });
    await t.db.transaction((tx) => sendIn(tx, handOff));
    await handOff.finish(true);
    // Counting the run's room takes a statement after the claim's answer,
    // which a hand-off does not wait for: the task stays queued.
    expect(agent.got).toEqual([]);
    expect(await taskStates(t.db, runId)).toEqual({ limited: "QUEUED" });
    d.add(agent);
    await d.whenIdle();
    expect(agent.got).toEqual(["limited"]);
  });

  it("sends nothing of a hand-off whose transaction rolled back", async () => {
    const { d, agent, runId, handOff } = await handOffOf(
      workflow(task("kept")),
    );
    await expect(
      t.db.transaction(async (tx) => {
        await sendIn(tx, handOff);
        throw new Error("the result's transaction failed");
      }),
    ).rejects.toThrow("the result's transaction failed");
    await handOff.finish(false);
    expect(agent.got).toEqual([]);
    expect(await taskStates(t.db, runId)).toEqual({ kept: "QUEUED" });
    // The task is still there for the next pass.
    d.add(agent);
    await d.whenIdle();
    expect(agent.got).toEqual(["kept"]);
  });

  it("survives a hand-off whose transaction failed before the claim was answered", async () => {
    const { agent, runId, handOff } = await handOffOf(workflow(task("kept")));
    await expect(
      t.db.transaction(async (tx) => {
        const writes = new Pipelined();
        writes.send(tx.execute(sql`SELECT 1 / 0`));
        handOff.send(tx, writes);
        await writes.done();
      }),
    ).rejects.toThrow();
    // The claim's own failure is not left unhandled (vitest fails the
    // run on one), and nothing is delivered.
    await handOff.finish(false);
    expect(agent.got).toEqual([]);
    expect(await taskStates(t.db, runId)).toEqual({ kept: "QUEUED" });
  });

  it("makes one claim at a time for an agent", async () => {
    const d = dispatcher();
    const agent = new TestTarget("a", 10);
    const first = d.handOff(agent);
    expect(first).toBeDefined();
    expect(d.handOff(agent)).toBeUndefined();
    // A pass passes the reserved agent by, and serves it once it is free.
    await start(t.db, workflow(task("waiting")));
    d.add(agent);
    await d.whenIdle();
    expect(agent.got).toEqual([]);
    await first?.finish(false);
    await d.whenIdle();
    expect(agent.got).toEqual(["waiting"]);
    expect(d.handOff(new TestTarget("full", 0))).toBeUndefined();
  });

  it("hands off to the agent with the most free slots that is not reserved", async () => {
    const d = dispatcher();
    const small = new TestTarget("small", 2);
    const large = new TestTarget("large", 8);
    // No agent yet: no one to hand off to.
    expect(d.handOffToAny()).toBeUndefined();
    d.add(small);
    d.add(large);
    await d.whenIdle();
    const first = d.handOffToAny();
    const second = d.handOffToAny();
    const third = d.handOffToAny();
    await start(t.db, workflow(task("one"), task("two"), task("three")));
    if (!first || !second) throw new Error("expected two hand-offs");
    await t.db.transaction((tx) => sendIn(tx, first));
    await first.finish(true);
    expect(large.got).toHaveLength(3);
    await t.db.transaction((tx) => sendIn(tx, second));
    await second.finish(true);
    expect(small.got).toEqual([]);
    expect(third).toBeUndefined();
    await d.whenIdle();
  });
});
