import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { registerAgent } from "../agents/register-agent.js";
import { agents, leases } from "../db/index.js";
import {
  agent,
  at,
  claim,
  claimAll,
  LEASE_TTL_MS,
  report,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";
import {
  expiries,
  lastHeartbeats,
  refOf,
  registered,
} from "./heartbeat-test-support.js";
import { renewLeases, renewLeasesOfHeartbeats } from "./renew-leases.js";

describe.each(testBackends())("renewLeases on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("renews held leases and returns the stale ones", async () => {
    await start(
      t.db,
      workflow(task("active"), task("granted"), task("done"), task("theirs")),
    );
    const mine = await claimAll(t.db, at(1));
    const active = mine.get("active");
    await acknowledgeLease(t.db, "agent-1", active, at(1));
    await report(t.db, mine.get("done"), {}, at(2));
    const unknown = { leaseId: crypto.randomUUID(), fencingToken: 1 };
    const wrongToken = { ...mine.get("theirs"), fencingToken: 99 };
    const refs = [
      active,
      mine.get("granted"),
      mine.get("done"),
      unknown,
      wrongToken,
    ].map(({ leaseId, fencingToken }) => ({ leaseId, fencingToken }));

    const stale = await renewLeases(t.db, "agent-1", refs, at(20));

    expect(stale).toEqual([refs[2], refs[3], refs[4]]);
    const rows = await t.db
      .select({ id: leases.id, expiresAt: leases.expiresAt })
      .from(leases)
      .where(inArray(leases.id, [active.leaseId, mine.get("granted").leaseId]));
    const renewed = new Date(at(20).getTime() + LEASE_TTL_MS);
    expect(rows.map((r) => r.expiresAt)).toEqual([renewed, renewed]);
    const [theirs] = await t.db
      .select({ expiresAt: leases.expiresAt })
      .from(leases)
      .where(inArray(leases.id, [mine.get("theirs").leaseId]));
    expect(theirs?.expiresAt).toEqual(new Date(at(1).getTime() + LEASE_TTL_MS));
  });

  it("does not renew another agent's lease", async () => {
    await start(t.db, workflow(task("a")));
    const lease = (await claimAll(t.db, at(1), agent("owner"))).get("a");
    const ref = { leaseId: lease.leaseId, fencingToken: lease.fencingToken };
    expect(await renewLeases(t.db, "intruder", [ref], at(5))).toEqual([ref]);
    expect(await renewLeases(t.db, "owner", [ref], at(5))).toEqual([]);
  });

  it("records the heartbeat, even one that names no lease", async () => {
    await registerAgent(
      t.db,
      {
        agentId: "agent-1",
        name: "a1",
        version: "",
        labels: {},
        detectedLabels: {},
        resources: {},
        slots: 1,
        taskTypes: [],
      },
      { sessionId: "s1", replicaId: "r1" },
      [],
      at(0),
    );
    expect(await renewLeases(t.db, "agent-1", [], at(7))).toEqual([]);
    const [row] = await t.db
      .select({ lastHeartbeatAt: agents.lastHeartbeatAt })
      .from(agents)
      .where(eq(agents.id, "agent-1"));
    expect(row?.lastHeartbeatAt).toEqual(at(7));
  });

  it("renews many agents' leases at once, answering each its stale ones", async () => {
    for (const id of ["a1", "a2", "a3"]) await registered(t.db, id);
    await start(t.db, workflow(task("t1"), task("t2"), task("t3")));
    const [one] = await claim(t.db, agent("a1"), at(1), 1);
    const [first, second] = await claim(t.db, agent("a2"), at(1), 2);
    if (!one || !first || !second) throw new Error("a claim came back short");
    await report(t.db, second, {}, at(2), "a2");
    const [held, done] = [refOf(first), refOf(second)];

    const stale = await renewLeasesOfHeartbeats(t.db, [
      { agentId: "a1", refs: [refOf(one)], now: at(20) },
      { agentId: "a2", refs: [held, done], now: at(21) },
      // a3 names a lease a1 holds: fencing is by agent too.
      { agentId: "a3", refs: [refOf(one)], now: at(22) },
    ]);

    expect(stale).toEqual([[], [done], [refOf(one)]]);
    const ttl = (s: number) => new Date(at(s).getTime() + LEASE_TTL_MS);
    expect(await expiries(t.db, [one.leaseId, held.leaseId])).toEqual({
      [one.leaseId]: ttl(20),
      [held.leaseId]: ttl(21),
    });
    expect(await lastHeartbeats(t.db)).toEqual({
      a1: at(20),
      a2: at(21),
      a3: at(22),
    });
  });
});
