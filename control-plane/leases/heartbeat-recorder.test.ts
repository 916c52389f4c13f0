import { describe, expect, it } from "vitest";
import { silentLogger } from "../../core/index.js";
import { testBackends } from "../../test/support/test-database.js";
import type { Db } from "../db/index.js";
import {
  agent,
  at,
  claim,
  LEASE_TTL_MS,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import type { LeaseRef } from "./acknowledge-lease.js";
import { HeartbeatRecorder } from "./heartbeat-recorder.js";
import {
  expiries,
  lastHeartbeats,
  refOf,
  registered,
} from "./heartbeat-test-support.js";

/** `db`, counting the statements sent through `execute`. */
function counting(db: Db): { db: Db; statements: () => number } {
  let statements = 0;
  const counted = new Proxy(db, {
    get(target, prop) {
      if (prop !== "execute") return Reflect.get(target, prop, target);
      return (query: Parameters<Db["execute"]>[0]) => {
        statements += 1;
        return target.execute(query);
      };
    },
  });
  return { db: counted, statements: () => statements };
}

/** Agents a0..a(n-1), registered, each holding one lease. */
async function agentsWithALeaseEach(db: Db, n: number): Promise<LeaseRef[]> {
  const ids = Array.from({ length: n }, (_, i) => `a${i}`);
  await start(db, workflow(...ids.map((id) => task(`t-${id}`))));
  const held: LeaseRef[] = [];
  for (const id of ids) {
    await registered(db, id);
    const [lease] = await claim(db, agent(id), at(1), 1);
    held.push(refOf(lease));
  }
  return held;
}

const ttl = (s: number) => new Date(at(s).getTime() + LEASE_TTL_MS);

describe.each(testBackends())("HeartbeatRecorder on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("writes the heartbeats that arrive during a statement in the next one", async () => {
    const held = await agentsWithALeaseEach(t.db, 6);
    const { db, statements } = counting(t.db);
    const recorder = new HeartbeatRecorder({ db, logger: silentLogger() });
    const beat = (i: number, refs: LeaseRef[]) =>
      recorder.record({ agentId: `a${i}`, refs, now: at(10 + i) });

    // The first is written at once; the rest arrive while it is in flight.
    const answers = await Promise.all([
      beat(0, [held[0] as LeaseRef]),
      beat(1, [held[1] as LeaseRef]),
      beat(2, [held[2] as LeaseRef, held[3] as LeaseRef]),
      beat(3, [held[3] as LeaseRef]),
      beat(4, []),
      beat(5, [held[5] as LeaseRef]),
    ]);

    expect(statements()).toBe(2);
    // a2 named a3's lease: stale for a2 alone.
    expect(answers).toEqual([[], [], [held[3]], [], [], []]);
    expect(await lastHeartbeats(t.db)).toEqual({
      a0: at(10),
      a1: at(11),
      a2: at(12),
      a3: at(13),
      a4: at(14),
      a5: at(15),
    });
    const leaseIds = held.map((r) => r.leaseId);
    const expected = [10, 11, 12, 13, undefined, 15];
    expect(await expiries(t.db, leaseIds)).toEqual(
      Object.fromEntries(
        leaseIds.map((id, i) => {
          const s = expected[i];
          // a4's lease was named by no heartbeat: claimed at 1, not renewed.
          return [id, s === undefined ? ttl(1) : ttl(s)];
        }),
      ),
    );
  });

  it("fails only the heartbeat whose data PostgreSQL refuses", async () => {
    const held = await agentsWithALeaseEach(t.db, 3);
    const { db, statements } = counting(t.db);
    const recorder = new HeartbeatRecorder({ db, logger: silentLogger() });
    const bad = { leaseId: "not-a-lease-id", fencingToken: 1 };

    const answers = await Promise.allSettled([
      recorder.record({ agentId: "a0", refs: [], now: at(5) }),
      recorder.record({
        agentId: "a0",
        refs: [held[0] as LeaseRef],
        now: at(10),
      }),
      recorder.record({ agentId: "a1", refs: [bad], now: at(11) }),
      recorder.record({
        agentId: "a2",
        refs: [held[2] as LeaseRef],
        now: at(12),
      }),
    ]);

    expect(answers.map((a) => a.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    // One alone, one round that failed, then its three one at a time.
    expect(statements()).toBe(5);
    expect(await lastHeartbeats(t.db)).toEqual({
      a0: at(10),
      // Its heartbeat was not stored: still the time it registered.
      a1: at(0),
      a2: at(12),
    });
    expect(
      await expiries(t.db, [held[0]?.leaseId ?? "", held[2]?.leaseId ?? ""]),
    ).toEqual({
      [held[0]?.leaseId ?? ""]: ttl(10),
      [held[2]?.leaseId ?? ""]: ttl(12),
    });
  });
});
