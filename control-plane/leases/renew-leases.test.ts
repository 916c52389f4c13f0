import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { registerAgent } from "../agents/register-agent.js";
import { agents, leases } from "../db/index.js";
import {
  agent,
  at,
  claimAll,
  LEASE_TTL_MS,
  report,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { acknowledgeLease } from "./acknowledge-lease.js";
import { renewLeases } from "./renew-leases.js";

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
});
