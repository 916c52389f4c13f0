import { describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import {
  ACK_DEADLINE_MS,
  LEASE_TTL_MS,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import type { ClaimedAssignment } from "./claim-tasks.js";
import { Dispatcher, type DispatchTarget } from "./dispatcher.js";

/** An agent's session as the dispatcher sees it, keeping what it got. */
class TestTarget implements DispatchTarget {
  readonly taskTypes = ["shell"];
  readonly labels = {};
  readonly got: string[] = [];

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
  }
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
});
