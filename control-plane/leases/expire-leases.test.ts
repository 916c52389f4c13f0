import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { attempts, leases } from "../db/index.js";
import { leasesExpired } from "../metrics/process-metrics.js";
import { type AgentCommand, Channels } from "../notify/channels.js";
import {
  ACK_DEADLINE_MS,
  at,
  claimAll,
  failure,
  history,
  LEASE_TTL_MS,
  listenFor,
  report,
  runState,
  start,
  task,
  taskRow,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";
import { MAX_UNSTARTED_ATTEMPTS } from "./close-attempt.js";
import { expireLeases, promoteDueRetries } from "./expire-leases.js";
import { renewLeases } from "./renew-leases.js";

/** deerflow_leases_expired_total of this process. */
const expiredCount = async () =>
  (await leasesExpired.get()).values[0]?.value ?? 0;

/** An instant `ms` after `from`. */
const later = (from: Date, ms: number) => new Date(from.getTime() + ms);

describe.each(testBackends())("expireLeases on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("takes back an unrenewed active lease; the task retries", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a", { retries: 1 }), task("b")),
    );
    const claimed = await claimAll(t.db, at(1));
    const lease = claimed.get("a");
    await acknowledgeLease(t.db, "agent-1", lease, at(1));
    await acknowledgeLease(t.db, "agent-1", claimed.get("b"), at(1));
    // b's holder keeps renewing; a's holder went quiet.
    const late = later(at(1), LEASE_TTL_MS + 1);
    await renewLeases(t.db, "agent-1", [claimed.get("b")], late);
    const deadline = later(at(1), LEASE_TTL_MS);
    expect(await expireLeases(t.db, deadline)).toBe(0);

    const counted = await expiredCount();
    expect(await expireLeases(t.db, late)).toBe(1);
    // What /metrics reports as deerflow_leases_expired_total.
    expect((await expiredCount()) - counted).toBe(1);

    const [row] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, lease.leaseId));
    expect(row).toMatchObject({ state: "EXPIRED", releasedAt: late });
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, lease.leaseId));
    expect(attempt).toMatchObject({
      outcome: "LOST",
      retryClass: "lost",
      error: "the lease expired: the agent stopped renewing it",
    });
    // Lost, not failed: due again at once, with no backoff.
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "RETRY",
      notBefore: late,
    });
    expect((await taskStates(t.db, runId)).b).toBe("RUNNING");
    expect(await expireLeases(t.db, late)).toBe(0);
  });

  it("revokes an unacknowledged lease and requeues the task without using an attempt", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a"), task("b", { depends_on: ["a"] })),
    );
    const lease = (await claimAll(t.db, at(1))).get("a");
    const due = later(at(1), ACK_DEADLINE_MS + 1);
    expect(await expireLeases(t.db, later(at(1), ACK_DEADLINE_MS))).toBe(0);

    expect(await expireLeases(t.db, due)).toBe(1);

    const [row] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, lease.leaseId));
    expect(row?.state).toBe("REVOKED");
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "QUEUED",
      queuedAt: due,
      attemptCount: 1,
      maxAttempts: 2,
      error: "the agent did not acknowledge the assignment in time",
    });
    expect((await taskStates(t.db, runId)).b).toBe("CREATED");
    // The next assignment is attempt 2 and may still succeed.
    const again = (await claimAll(t.db, later(due, 1))).get("a");
    expect(again.attempt).toBe(2);
  });

  it("fails a task after MAX_UNSTARTED_ATTEMPTS assignments nobody acknowledged", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("a"), task("b", { depends_on: ["a"] })),
    );
    let now = at(1);
    for (let i = 0; i < MAX_UNSTARTED_ATTEMPTS; i++) {
      await claimAll(t.db, now);
      now = later(now, ACK_DEADLINE_MS + 1);
      expect(await expireLeases(t.db, now)).toBe(1);
    }
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "FAILED",
      attemptCount: MAX_UNSTARTED_ATTEMPTS,
    });
    expect((await taskStates(t.db, runId)).b).toBe("UPSTREAM_FAILED");
    expect(await runState(t.db, runId)).toBe("FAILED");
  });

  it("tells the holder's replica to cancel the lost attempt", async () => {
    await start(t.db, workflow(task("a", { retries: 1 })));
    const lease = (await claimAll(t.db, at(1))).get("a");
    const command = await listenFor(
      t.database,
      Channels.agentCommand,
      (payload) => payload.includes(lease.leaseId),
    );
    try {
      await expireLeases(t.db, later(at(1), ACK_DEADLINE_MS + 1));
      const sent = JSON.parse(await command.received) as AgentCommand;
      expect(sent).toEqual({
        kind: "cancel",
        agentId: "agent-1",
        leaseId: lease.leaseId,
        fencingToken: lease.fencingToken,
        reason: "lost",
      });
    } finally {
      await command.stop();
    }
  });

  it("leaves a lease whose holder renewed it", async () => {
    await start(t.db, workflow(task("a")));
    const lease = (await claimAll(t.db, at(1))).get("a");
    await acknowledgeLease(t.db, "agent-1", lease, at(1));
    const renewedAt = later(at(1), LEASE_TTL_MS - 1);
    await renewLeases(t.db, "agent-1", [lease], renewedAt);
    expect(await expireLeases(t.db, later(at(1), LEASE_TTL_MS + 1))).toBe(0);
  });
});

describe.each(testBackends())("promoteDueRetries on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("queues tasks whose backoff has passed, and no others", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("soon", { retry: { max_attempts: 2, initial_delay: 5 } }),
        task("later", { retry: { max_attempts: 2, initial_delay: 50 } }),
      ),
    );
    const claimed = await claimAll(t.db, at(1));
    for (const id of claimed.ids) {
      await acknowledgeLease(t.db, "agent-1", claimed.get(id), at(1));
    }
    const expiry = later(at(1), LEASE_TTL_MS + 1);
    for (const id of claimed.ids) {
      expect(await report(t.db, claimed.get(id), failure(), expiry)).toEqual({
        accepted: true,
        duplicate: false,
      });
    }
    expect(await taskStates(t.db, runId)).toEqual({
      soon: "RETRY",
      later: "RETRY",
    });
    expect(claimed.ids).toEqual(["later", "soon"]);
    const queued = await listenFor(t.database, Channels.taskQueued);
    try {
      expect(await promoteDueRetries(t.db, later(expiry, 4999))).toBe(0);
      expect(await promoteDueRetries(t.db, later(expiry, 5000))).toBe(1);
      await queued.received;
    } finally {
      await queued.stop();
    }
    expect(await taskRow(t.db, runId, "soon")).toMatchObject({
      state: "QUEUED",
      queuedAt: later(expiry, 5000),
    });
    expect((await taskStates(t.db, runId)).later).toBe("RETRY");
    expect((await history(t.db, runId)).at(-1)).toBe("soon:QUEUED");
    expect(await promoteDueRetries(t.db, later(expiry, 50_000))).toBe(1);
    expect(await promoteDueRetries(t.db, later(expiry, 50_000))).toBe(0);
  });
});
