import { describe, expect, it } from "vitest";
import type { Clock } from "../../core/index.js";
import { silentLogger } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import type { Db } from "../db/index.js";
import {
  at,
  type Claimed,
  claimAll,
  LEASE_TTL_MS,
  start,
  task,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";
import { LeaseManager } from "./lease-manager.js";

/**
 * A clock the test sets by hand. Its sleep reports that a sweep ended
 * and then lasts until the abort (and resolves then, as Clock says), so
 * the loop never sweeps again on its own.
 */
function handClock(start: Date) {
  let now = start.getTime();
  let sleptOnce = () => {};
  const slept = new Promise<void>((resolve) => {
    sleptOnce = resolve;
  });
  const clock: Clock = {
    now: () => now,
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        sleptOnce();
        signal?.addEventListener("abort", () => resolve(), { once: true });
      }),
  };
  return {
    clock,
    slept,
    set: (to: Date) => {
      now = to.getTime();
    },
  };
}

/** Acknowledges every claimed lease at at(1), as a live agent would. */
async function acknowledgeAll(db: Db, claimed: Claimed): Promise<void> {
  for (const id of claimed.ids) {
    await acknowledgeLease(db, "agent-1", claimed.get(id), at(1));
  }
}

describe.each(testBackends())("LeaseManager on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("sweeps expired leases and due retries at its clock's time", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a", { retry: { max_attempts: 2, initial_delay: 30 } })),
    );
    await acknowledgeAll(t.db, await claimAll(t.db, at(1)));
    const time = handClock(at(1));
    const manager = new LeaseManager({
      db: t.db,
      clock: time.clock,
      logger: silentLogger(),
      replicaId: "replica-1",
    });
    expect(await manager.sweep()).toEqual({ expired: 0, promoted: 0 });
    const expiry = new Date(at(1).getTime() + LEASE_TTL_MS + 1);
    time.set(expiry);
    expect(await manager.sweep()).toEqual({ expired: 1, promoted: 0 });
    expect(await taskStates(t.db, runId)).toEqual({ a: "RETRY" });
    time.set(new Date(expiry.getTime() + 30_000));
    expect(await manager.sweep()).toEqual({ expired: 0, promoted: 1 });
    expect(await taskStates(t.db, runId)).toEqual({ a: "QUEUED" });
  });

  it("sweeps in its loop until stopped", async () => {
    const { runId } = await start(t.db, workflow(task("a", { retries: 1 })));
    await acknowledgeAll(t.db, await claimAll(t.db, at(1)));
    const time = handClock(new Date(at(1).getTime() + LEASE_TTL_MS + 1));
    const manager = new LeaseManager({
      db: t.db,
      clock: time.clock,
      logger: silentLogger(),
      replicaId: "replica-1",
    });
    manager.start();
    try {
      await time.slept;
    } finally {
      await manager.stop();
    }
    expect(await taskStates(t.db, runId)).toEqual({ a: "RETRY" });
  });
});
