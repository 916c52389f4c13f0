import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { testBackends } from "../../test/support/test-database.js";
import type { TaskDefinition } from "../../workflow/index.js";
import { attempts, type Db, leases } from "../db/index.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import { cancelRun } from "../runs/cancel-run.js";
import {
  at,
  claimAll,
  failure,
  history,
  LEASE_TTL_MS,
  report,
  runRow,
  start,
  task,
  taskRow,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";
import { expireLeases, promoteDueRetries } from "./expire-leases.js";
import { recordResults } from "./record-result.js";

async function leaseRow(db: Db, leaseId: string) {
  const [row] = await db.select().from(leases).where(eq(leases.id, leaseId));
  return row;
}

async function attemptRow(db: Db, leaseId: string) {
  const [row] = await db
    .select()
    .from(attempts)
    .where(eq(attempts.leaseId, leaseId));
  return row;
}

/** Starts a one-task run and claims and acknowledges its task. */
async function running(db: Db, extra: Parameters<typeof task>[1] = {}) {
  const { runId } = await start(db, workflow(task("a", extra)), at(0));
  const lease = (await claimAll(db, at(1))).get("a");
  await acknowledgeLease(db, "agent-1", lease, at(1));
  return { runId, lease };
}

describe.each(testBackends())("recordResult on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("stores a success with its output, once", async () => {
    const { runId, lease } = await running(t.db);
    const verdict = await report(
      t.db,
      lease,
      {
        output: { rows: 3, files: ["a", "b"] },
        exitCode: 0,
        startedAt: at(1.5),
        finishedAt: at(4),
      },
      at(5),
    );
    expect(verdict).toEqual({ accepted: true, duplicate: false });
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "SUCCESS",
      output: { rows: 3, files: ["a", "b"] },
      exitCode: 0,
      error: "",
      finishedAt: at(5),
    });
    expect(await attemptRow(t.db, lease.leaseId)).toMatchObject({
      outcome: "SUCCESS",
      output: { rows: 3, files: ["a", "b"] },
      exitCode: 0,
      retryClass: null,
      startedAt: at(1.5),
      finishedAt: at(4),
    });
    expect(await leaseRow(t.db, lease.leaseId)).toMatchObject({
      state: "RELEASED",
      releasedAt: at(5),
    });
    expect((await runRow(t.db, runId)).state).toBe("SUCCESS");
  });

  it("accepts a resend as a duplicate and changes nothing", async () => {
    const { runId, lease } = await running(t.db);
    await report(t.db, lease, { output: { n: 1 } }, at(5));
    const task = await taskRow(t.db, runId, "a");
    const attempt = await attemptRow(t.db, lease.leaseId);
    const events = await history(t.db, runId);
    const resent = await report(t.db, lease, { output: { n: 2 } }, at(9));
    expect(resent).toEqual({ accepted: true, duplicate: true });
    expect(await taskRow(t.db, runId, "a")).toEqual(task);
    expect(await attemptRow(t.db, lease.leaseId)).toEqual(attempt);
    expect(await history(t.db, runId)).toEqual(events);
  });

  it("refuses another outcome for an attempt that ended, and changes nothing", async () => {
    const { runId, lease } = await running(t.db);
    await report(t.db, lease, { output: { n: 1 } }, at(5));
    const task = await taskRow(t.db, runId, "a");
    const attempt = await attemptRow(t.db, lease.leaseId);
    const events = await history(t.db, runId);
    const late = await report(
      t.db,
      lease,
      failure("a different story", { output: { n: 2 } }),
      at(9),
    );
    expect(late).toEqual({
      accepted: false,
      reason: "its attempt already ended SUCCESS",
    });
    expect(await taskRow(t.db, runId, "a")).toEqual(task);
    expect(await attemptRow(t.db, lease.leaseId)).toEqual(attempt);
    expect(await history(t.db, runId)).toEqual(events);
  });

  it("refuses a wrong token, another agent, an unknown lease", async () => {
    const { runId, lease } = await running(t.db);
    const stale = { ...lease, fencingToken: lease.fencingToken + 1 };
    expect(await report(t.db, stale)).toEqual({
      accepted: false,
      reason: "stale fencing token",
    });
    expect(await report(t.db, lease, {}, at(2), "agent-2")).toEqual({
      accepted: false,
      reason: "stale fencing token",
    });
    const ghost = { ...lease, leaseId: crypto.randomUUID() };
    expect(await report(t.db, ghost)).toEqual({
      accepted: false,
      reason: "unknown lease",
    });
    expect((await taskRow(t.db, runId, "a")).state).toBe("RUNNING");
    expect((await leaseRow(t.db, lease.leaseId))?.state).toBe("ACTIVE");
  });

  it("refuses an expired lease; a newer attempt keeps its own", async () => {
    const { runId, lease } = await running(t.db, { retries: 1 });
    const expiry = new Date(at(1).getTime() + LEASE_TTL_MS + 1);
    expect(await expireLeases(t.db, expiry)).toBe(1);
    expect(await report(t.db, lease, {}, expiry)).toEqual({
      accepted: false,
      reason: "lease expired",
    });
    await promoteDueRetries(t.db, at(100));
    const second = (await claimAll(t.db, at(101))).get("a");
    expect(await report(t.db, lease, {}, at(102))).toMatchObject({
      accepted: false,
    });
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "ASSIGNED",
      fencingToken: second.fencingToken,
    });
  });

  it("refuses a result for a lease revoked by a cancel", async () => {
    const { runId, lease } = await running(t.db);
    await cancelRun(t.db, runId, "stop", at(2));
    expect(await report(t.db, lease, {}, at(3))).toEqual({
      accepted: false,
      reason: "lease revoked",
    });
    expect((await taskRow(t.db, runId, "a")).state).toBe("KILLED");
  });

  it("moves a failure with attempts left to RETRY", async () => {
    const { runId, lease } = await running(t.db, {
      retry: { max_attempts: 3, initial_delay: 10 },
    });
    const verdict = await report(t.db, lease, failure("exit 2"), at(5));
    expect(verdict).toEqual({ accepted: true, duplicate: false });
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "RETRY",
      error: "exit 2",
      exitCode: 1,
      notBefore: at(15),
      finishedAt: null,
    });
    expect(await attemptRow(t.db, lease.leaseId)).toMatchObject({
      outcome: "FAILED",
      error: "exit 2",
      retryClass: "error",
    });
    expect((await runRow(t.db, runId)).state).toBe("RUNNING");
  });

  it("waits as long as Retry-After asks", async () => {
    const { runId, lease } = await running(t.db, {
      retry: { max_attempts: 2, retry_on: ["429"] },
    });
    await report(
      t.db,
      lease,
      failure("too many", { retryClass: "429", retryAfterMs: 120_000 }),
      at(5),
    );
    expect((await taskRow(t.db, runId, "a")).notBefore).toEqual(at(125));
  });

  it("fails the task and the run once every attempt failed", async () => {
    const { runId, lease } = await running(t.db, { retries: 1 });
    await report(t.db, lease, failure("first"), at(2));
    await promoteDueRetries(t.db, at(10));
    const second: ClaimedAssignment = (await claimAll(t.db, at(11))).get("a");
    await report(t.db, second, failure("second"), at(12));
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "FAILED",
      error: "second",
      attemptCount: 2,
      finishedAt: at(12),
    });
    expect(await runRow(t.db, runId)).toMatchObject({
      state: "FAILED",
      error: "tasks did not succeed: a",
    });
  });

  it("fails a non-retryable failure with attempts left", async () => {
    const { runId, lease } = await running(t.db, { retries: 5 });
    await report(t.db, lease, failure("bad input", { retryable: false }));
    expect((await taskRow(t.db, runId, "a")).state).toBe("FAILED");
  });

  it("classes a timeout as timeout, an agent's kill as lost", async () => {
    const onlyErrors: Partial<TaskDefinition> = {
      retry: { max_attempts: 3, retry_on: ["error"] },
    };
    const timedOut = await running(t.db, onlyErrors);
    await report(
      t.db,
      timedOut.lease,
      failure("", { outcome: "TIMED_OUT", retryClass: "error" }),
    );
    expect(await taskRow(t.db, timedOut.runId, "a")).toMatchObject({
      state: "FAILED",
      error: "timed_out",
    });
    expect((await attemptRow(t.db, timedOut.lease.leaseId))?.retryClass).toBe(
      "timeout",
    );
    const killed = await running(t.db, {
      retry: { max_attempts: 3, retry_on: ["lost"] },
    });
    await report(
      t.db,
      killed.lease,
      failure("draining", { outcome: "KILLED", retryClass: "error" }),
    );
    expect((await taskRow(t.db, killed.runId, "a")).state).toBe("RETRY");
    expect((await attemptRow(t.db, killed.lease.leaseId))?.outcome).toBe(
      "KILLED",
    );
  });

  it("accepts a result that arrives before the acknowledgement", async () => {
    const { runId } = await start(t.db, workflow(task("a")), at(0));
    const lease = (await claimAll(t.db, at(1))).get("a");
    await report(
      t.db,
      lease,
      { output: { quick: true }, startedAt: at(1.5) },
      at(2),
    );
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "SUCCESS",
      output: { quick: true },
      startedAt: at(1.5),
    });
    // The lost acknowledgement's RUNNING is recorded with the result.
    expect(await history(t.db, runId)).toEqual([
      "run:PENDING",
      "a:QUEUED",
      "run:RUNNING",
      "a:ASSIGNED",
      "a:RUNNING",
      "a:SUCCESS",
      "run:SUCCESS",
    ]);
  });

  it("refuses a result PostgreSQL cannot store, alone or in a batch, and records the rest", async () => {
    const { runId, lease } = await running(t.db);
    const verdict = await report(t.db, lease, { output: { a: "x\u0000y" } });
    expect(verdict).toMatchObject({ accepted: false });
    expect(verdict.accepted === false && verdict.reason).toMatch(
      /^the result could not be stored: /,
    );
    expect(await taskRow(t.db, runId, "a")).toMatchObject({ state: "RUNNING" });

    const { runId: other } = await start(
      t.db,
      workflow(task("b"), task("c")),
      at(0),
    );
    const claimed = await claimAll(t.db, at(1));
    const [b, c] = [claimed.get("b"), claimed.get("c")];
    const verdicts = await recordResults(
      t.db,
      "agent-1",
      [b, c].map((l, i) => ({
        leaseId: l.leaseId,
        fencingToken: l.fencingToken,
        outcome: "SUCCESS" as const,
        output: (i === 0 ? { bad: "\u0000" } : { good: true }) as JsonObject,
        error: "",
        retryable: true,
        retryClass: "",
      })),
      at(2),
    );
    expect(verdicts.map((v) => v.accepted)).toEqual([false, true]);
    expect(await taskRow(t.db, other, "c")).toMatchObject({
      state: "SUCCESS",
      output: { good: true },
    });
  });
});
