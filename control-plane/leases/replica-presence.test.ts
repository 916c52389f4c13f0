import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { leases } from "../db/index.js";
import {
  at,
  claimAll,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { joinReplicas, markReplicaSeen } from "./replica-presence.js";

const DOWNTIME_AFTER_MS = 5_000;

describe.each(testBackends())("replica presence on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("credits held leases with the time no replica was up", async () => {
    await joinReplicas(t.db, "first", at(0), DOWNTIME_AFTER_MS);
    await start(t.db, workflow(task("a")), at(0));
    const lease = (await claimAll(t.db, at(1))).get("a");
    const [before] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, lease.leaseId));
    await markReplicaSeen(t.db, "first", at(10));

    // The only replica died after at(10); a new one starts at at(70).
    const joined = await joinReplicas(
      t.db,
      "second",
      at(70),
      DOWNTIME_AFTER_MS,
    );

    expect(joined.creditedMs).toBe(60_000);
    const [after] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, lease.leaseId));
    expect(after?.expiresAt.getTime()).toBe(
      (before?.expiresAt.getTime() ?? 0) + 60_000,
    );
    expect(after?.ackDeadlineAt.getTime()).toBe(
      (before?.ackDeadlineAt.getTime() ?? 0) + 60_000,
    );
  });

  it("credits nothing while another replica was up, or twice for one gap", async () => {
    await joinReplicas(t.db, "first", at(0), DOWNTIME_AFTER_MS);
    await markReplicaSeen(t.db, "first", at(20));
    expect(
      (await joinReplicas(t.db, "second", at(22), DOWNTIME_AFTER_MS))
        .creditedMs,
    ).toBe(0);
    // Both went away after at(30); two start together at at(90).
    await markReplicaSeen(t.db, "second", at(30));
    const [a, b] = await Promise.all([
      joinReplicas(t.db, "third", at(90), DOWNTIME_AFTER_MS),
      joinReplicas(t.db, "fourth", at(90), DOWNTIME_AFTER_MS),
    ]);
    expect([a?.creditedMs, b?.creditedMs].sort()).toEqual([0, 60_000]);
  });

  it("credits nothing on the very first start", async () => {
    expect(
      (await joinReplicas(t.db, "only", at(5), DOWNTIME_AFTER_MS)).creditedMs,
    ).toBe(0);
  });
});
