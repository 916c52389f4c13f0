import { createServer } from "node:net";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Clock } from "../../core/index.js";
import { silentLogger } from "../../core/index.js";
import { captureLogger } from "../../test/support/capture-logger.js";
import {
  behindProxy,
  CuttableProxy,
} from "../../test/support/cuttable-proxy.js";
import { testBackends } from "../../test/support/test-database.js";
import { type Db, leases } from "../db/index.js";
import {
  at,
  type Claimed,
  claimAll,
  failure,
  LEASE_TTL_MS,
  report,
  start,
  task,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";
import { downtimeAfterMs, LeaseManager } from "./lease-manager.js";
import { joinReplicas } from "./replica-presence.js";

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
    const retry = { retry: { max_attempts: 2, initial_delay: 30 } };
    const { runId } = await start(
      t.db,
      workflow(task("lost", retry), task("failed", retry)),
    );
    const claimed = await claimAll(t.db, at(1));
    await acknowledgeAll(t.db, claimed);
    await report(t.db, claimed.get("failed"), failure(), at(2));
    const time = handClock(at(2));
    const manager = new LeaseManager({
      db: t.db,
      clock: time.clock,
      logger: silentLogger(),
      replicaId: "replica-1",
    });
    expect(await manager.sweep()).toEqual({ expired: 0, promoted: 0 });
    // A lost attempt is due again at once; a failed one after its backoff.
    const expiry = new Date(at(1).getTime() + LEASE_TTL_MS + 1);
    time.set(expiry);
    expect(await manager.sweep()).toEqual({ expired: 1, promoted: 1 });
    expect(await taskStates(t.db, runId)).toEqual({
      lost: "QUEUED",
      failed: "RETRY",
    });
    time.set(new Date(at(2).getTime() + 30_000));
    expect(await manager.sweep()).toEqual({ expired: 0, promoted: 1 });
    expect(await taskStates(t.db, runId)).toEqual({
      lost: "QUEUED",
      failed: "QUEUED",
    });
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
    // Lost in the sweep, and due again at once.
    expect(await taskStates(t.db, runId)).toEqual({ a: "QUEUED" });
  });
});

describe("LeaseManager while its database refuses connections", () => {
  it("logs the driver's words, not the statement, while sweeps keep failing", async () => {
    // A port on loopback that was listening a moment ago: nothing does now.
    const server = createServer();
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve),
    );
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error();
    await new Promise((resolve) => server.close(resolve));
    const client = postgres(
      `postgres://postgres@127.0.0.1:${address.port}/none`,
      {
        max: 1,
        connect_timeout: 5,
        onnotice: () => {},
      },
    );
    const db = drizzle(client) as unknown as Db;
    // Each sleep moves the clock a minute on; the third ends the test.
    let now = at(0).getTime();
    let sleeps = 0;
    const stopped = new AbortController();
    let done = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const clock: Clock = {
      now: () => now,
      sleep: async () => {
        now += 61_000;
        if (++sleeps === 3) done();
        if (sleeps >= 3) {
          await new Promise((resolve) =>
            stopped.signal.addEventListener("abort", resolve, { once: true }),
          );
        }
      },
    };
    const captured = captureLogger();
    const manager = new LeaseManager({
      db,
      clock,
      logger: captured.logger,
      replicaId: "replica-1",
    });
    manager.start();
    try {
      await finished;
    } finally {
      stopped.abort();
      await manager.stop();
      await client.end({ timeout: 1 });
    }
    const still = captured
      .lines()
      .filter((line) => line.msg === "lease sweep still failing");
    expect(still.length).toBeGreaterThan(0);
    expect(still[0]).toMatchObject({
      code: "ECONNREFUSED",
      error: expect.stringContaining("ECONNREFUSED"),
    });
    expect(String(still[0]?.error)).not.toContain("Failed query");
  });
});

const postgresBackend = testBackends().find((b) => b.name === "postgres");

describe.skipIf(postgresBackend === undefined)(
  "LeaseManager after an outage of its database",
  () => {
    const server = new URL(inject("testDatabaseUrl") ?? "postgres://none");
    const proxy = new CuttableProxy({
      host: server.hostname,
      port: Number(server.port || 5432),
    });
    beforeAll(() => proxy.open());
    afterAll(async () => {
      if (proxy.isOpen) await proxy.cut();
    });
    const t = useTestDatabase(
      behindProxy(
        postgresBackend ?? { name: "postgres", create: () => never() },
        proxy,
      ),
    );

    it("credits the outage to held leases before it expires any", async () => {
      await joinReplicas(t.db, "replica-1", at(0), downtimeAfterMs(500));
      const { runId } = await start(t.db, workflow(task("a")), at(0));
      const claimed = await claimAll(t.db, at(1));
      await acknowledgeAll(t.db, claimed);
      const leaseOf = async () => {
        const [row] = await t.db
          .select()
          .from(leases)
          .where(eq(leases.id, claimed.get("a").leaseId));
        return row;
      };
      const expiresAt = (await leaseOf())?.expiresAt.getTime() ?? 0;
      const time = handClock(at(2));
      const manager = new LeaseManager({
        db: t.db,
        clock: time.clock,
        logger: silentLogger(),
        replicaId: "replica-1",
        sweepIntervalMs: 500,
      });
      await manager.sweep();

      // The database is gone for longer than the lease lives: no
      // heartbeat could be recorded, and no sweep could run.
      await proxy.cut();
      time.set(at(100));
      await expect(manager.sweep()).rejects.toThrow();
      await proxy.open();
      time.set(at(101));
      // A connection begun during the outage may fail the first call.
      let swept: Awaited<ReturnType<LeaseManager["sweep"]>> | undefined;
      for (let tries = 0; swept === undefined; tries++) {
        swept = await manager.sweep().catch((error: unknown) => {
          if (tries > 20) throw error;
          return undefined;
        });
      }

      expect(swept.expired).toBe(0);
      // Credited from the last time a replica reached it, at(2).
      expect((await leaseOf())?.expiresAt.getTime()).toBe(expiresAt + 99_000);
      expect(await taskStates(t.db, runId)).toEqual({ a: "RUNNING" });
      // Once: the next sweep finds the replica seen just now.
      time.set(at(102));
      await manager.sweep();
      expect((await leaseOf())?.expiresAt.getTime()).toBe(expiresAt + 99_000);
    });
  },
);

function never(): never {
  throw new Error("PostgreSQL is not configured");
}
