import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { type Db, rowsOf } from "../db/index.js";
import { type ClaimedAssignment, sendClaim } from "../dispatch/claim-tasks.js";
import { Channels } from "../notify/channels.js";
import type { Pipelined } from "../scheduler/pipelined.js";
import {
  ACK_DEADLINE_MS,
  agent,
  at,
  claimAll,
  history,
  LEASE_TTL_MS,
  listenFor,
  only,
  start,
  task,
  taskRow,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { type LeaseBatch, settleLeases } from "./settle-leases.js";

const MARKER = "after the settle";

/** A lease's acknowledgement and its SUCCESS, as one agent's batch. */
function startedAndSucceeded(lease: ClaimedAssignment): LeaseBatch {
  const ref = { leaseId: lease.leaseId, fencingToken: lease.fencingToken };
  return {
    acknowledgements: [ref],
    results: [
      {
        ...ref,
        outcome: "SUCCESS",
        error: "",
        retryable: true,
        retryClass: "",
      },
    ],
  };
}

describe.each(testBackends())("settleLeases on $name", (backend) => {
  const t = useTestDatabase(backend);

  /**
   * Settles the acknowledgement and success of `taskId`'s lease, claiming
   * up to `limit` tasks in the same transaction, and answers the first
   * taskQueued payload seen: the settle's own, or a marker sent after it.
   */
  async function settleAndClaim(taskId: string, limit: number) {
    const lease = (await claimAll(t.db, at(1))).get(taskId);
    const heard = await listenFor(t.database, Channels.taskQueued);
    const settled = await settleLeases(
      t.db,
      "agent-1",
      startedAndSucceeded(lease),
      at(2),
      (tx: Db, writes: Pipelined) => {
        sendClaim(
          tx,
          agent(),
          {
            limit,
            leaseTtlMs: LEASE_TTL_MS,
            ackDeadlineMs: ACK_DEADLINE_MS,
            now: at(2),
          },
          writes,
        );
      },
    );
    await t.db.execute(
      sql`SELECT pg_notify(${Channels.taskQueued}, ${MARKER})`,
    );
    const first = await heard.received;
    await heard.stop();
    return { settled, first };
  }

  it("wakes no dispatcher when the claim alongside took every queued task", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("first"), task("second", { depends_on: ["first"] })),
    );
    const { settled, first } = await settleAndClaim("first", 10);
    expect(settled.together).toBe(true);
    expect(settled.held).toEqual([true]);
    expect(settled.verdicts.map((v) => v.accepted)).toEqual([true]);
    expect(await taskStates(t.db, runId)).toEqual({
      first: "SUCCESS",
      second: "ASSIGNED",
    });
    expect(first).toBe(MARKER);
  });

  it("wakes dispatchers when tasks the results queued are left", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("first"),
        task("second", { depends_on: ["first"] }),
        task("third", { depends_on: ["first"] }),
      ),
    );
    const { settled, first } = await settleAndClaim("first", 1);
    expect(settled.together).toBe(true);
    const states = Object.values(await taskStates(t.db, runId)).sort();
    expect(states).toEqual(["ASSIGNED", "QUEUED", "SUCCESS"]);
    expect(first).toBe("");
  });

  it("keeps nothing of a settle whose last statement failed, and records the results alone", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("first"), task("second", { depends_on: ["first"] })),
    );
    const lease = (await claimAll(t.db, at(1))).get("first");
    const settled = await settleLeases(
      t.db,
      "agent-1",
      startedAndSucceeded(lease),
      at(2),
      // On PostgreSQL COMMIT follows it unanswered, and answers ROLLBACK.
      (tx: Db, writes: Pipelined) => writes.send(tx.execute(sql`SELECT 1 / 0`)),
    );
    expect(settled.together).toBe(false);
    expect(settled.held).toEqual([true]);
    expect(settled.verdicts).toEqual([{ accepted: true, duplicate: false }]);
    expect(await taskStates(t.db, runId)).toEqual({
      first: "SUCCESS",
      second: "QUEUED",
    });
    const events = (await history(t.db, runId)).filter((e) =>
      e.startsWith("first"),
    );
    expect(events.filter((e) => e.includes("SUCCESS"))).toHaveLength(1);
  });

  it("claims nothing alongside results that queued no task", async () => {
    const { runId } = await start(t.db, workflow(task("one"), task("two")));
    const lease = (await claimAll(t.db, at(1), agent())).get("one");
    let called = false;
    const settled = await settleLeases(
      t.db,
      "agent-1",
      startedAndSucceeded(lease),
      at(2),
      () => {
        called = true;
      },
    );
    expect(settled.together).toBe(true);
    expect(called).toBe(false);
    expect((await taskStates(t.db, runId)).one).toBe("SUCCESS");
  });

  it("records a success and its acknowledgement as one transition", async () => {
    const { runId } = await start(t.db, workflow(task("one")));
    const lease = (await claimAll(t.db, at(1))).get("one");
    const settled = await settleLeases(
      t.db,
      "agent-1",
      startedAndSucceeded(lease),
      at(2),
    );
    expect(settled).toMatchObject({ held: [true], together: true });
    expect(settled.verdicts).toEqual([{ accepted: true, duplicate: false }]);
    expect(await taskRow(t.db, runId, "one")).toMatchObject({
      state: "SUCCESS",
      startedAt: at(2),
    });
    expect(await history(t.db, runId)).toEqual([
      "run:PENDING",
      "one:QUEUED",
      "run:RUNNING",
      "one:ASSIGNED",
      "one:RUNNING",
      "one:SUCCESS",
      "run:SUCCESS",
    ]);
    const [row] = rowsOf(
      await t.db.execute(sql`
      SELECT l.state AS lease, a.started_at IS NOT NULL AS started
      FROM leases l JOIN attempts a ON a.lease_id = l.id
      WHERE l.id = ${lease.leaseId}`),
    );
    expect(row).toEqual({ lease: "RELEASED", started: true });
  });

  it("still acknowledges a lease whose result in the batch is a failure", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("one", { retry: { max_attempts: 2 } })),
    );
    const lease = (await claimAll(t.db, at(1))).get("one");
    const batch = startedAndSucceeded(lease);
    const result = only(batch.results);
    const settled = await settleLeases(
      t.db,
      "agent-1",
      {
        ...batch,
        results: [{ ...result, outcome: "FAILED", error: "exit 1" }],
      },
      at(2),
    );
    expect(settled).toMatchObject({ held: [true], together: true });
    expect(await taskRow(t.db, runId, "one")).toMatchObject({
      state: "RETRY",
      startedAt: at(2),
    });
    expect((await history(t.db, runId)).slice(-2)).toEqual([
      "one:RUNNING",
      "one:RETRY",
    ]);
  });

  it("answers a reference PostgreSQL refuses as not held, and settles the rest", async () => {
    const { runId } = await start(t.db, workflow(task("one"), task("two")));
    const claimed = await claimAll(t.db, at(1));
    const one = claimed.get("one");
    const batch = startedAndSucceeded(claimed.get("two"));
    // Beyond bigint: the acknowledgement's statement fails, the whole
    // transaction with it, and each half is settled again on its own.
    const bad = { leaseId: one.leaseId, fencingToken: 2 ** 63 };
    const settled = await settleLeases(
      t.db,
      "agent-1",
      { ...batch, acknowledgements: [bad, ...batch.acknowledgements] },
      at(2),
    );
    expect(settled.together).toBe(false);
    expect(settled.held).toEqual([false, true]);
    expect(settled.verdicts).toEqual([{ accepted: true, duplicate: false }]);
    expect(await taskStates(t.db, runId)).toEqual({
      one: "ASSIGNED",
      two: "SUCCESS",
    });
  });

  it("joins its batches to their tables by key, whatever plan the tables' size suggests", async () => {
    await start(
      t.db,
      workflow(task("first"), task("second", { depends_on: ["first"] })),
    );
    const lease = (await claimAll(t.db, at(1))).get("first");
    let settings: Promise<unknown> | undefined;
    await settleLeases(
      t.db,
      "agent-1",
      startedAndSucceeded(lease),
      at(2),
      (tx, writes) => {
        settings = writes.ask(
          tx.execute(sql`
            SELECT current_setting('enable_hashjoin') AS hash,
              current_setting('enable_mergejoin') AS merge`),
        );
      },
    );
    expect(rowsOf(await settings)).toEqual([{ hash: "off", merge: "off" }]);
    // For the transaction only.
    expect(
      rowsOf(
        await t.db.execute(
          sql`SELECT current_setting('enable_hashjoin') AS hash`,
        ),
      ),
    ).toEqual([{ hash: "on" }]);
  });
});
