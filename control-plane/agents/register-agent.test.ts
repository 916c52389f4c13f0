import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { agents, attempts, type Db, leases } from "../db/index.js";
import { POLLING_SESSION } from "../leases/polling-worker.js";
import {
  at,
  claimAll,
  LEASE_TTL_MS,
  report,
  start,
  task,
  taskRow,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import {
  type AgentProfile,
  disconnectAgent,
  registerAgent,
} from "./register-agent.js";

const profile = (extra: Partial<AgentProfile> = {}): AgentProfile => ({
  agentId: "agent-1",
  name: "laptop",
  version: "0.1.0",
  labels: { team: "data", os: "linux" },
  detectedLabels: { os: "linux", arch: "arm64" },
  resources: { cpu: "8" },
  slots: 4,
  taskTypes: [{ type: "shell" }],
  ...extra,
});

const session = (id: string) => ({ sessionId: id, replicaId: "replica-1" });

async function agentRow(db: Db, id = "agent-1") {
  const [row] = await db.select().from(agents).where(eq(agents.id, id));
  if (!row) throw new Error(`no agent ${id}`);
  return row;
}

describe.each(testBackends())("registerAgent on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("stores the profile, declared labels over detected", async () => {
    const registration = await registerAgent(
      t.db,
      profile(),
      session("s1"),
      [],
      at(0),
    );
    expect(registration).toEqual({
      cordoned: false,
      reattached: [],
      returned: 0,
    });
    expect(await agentRow(t.db)).toMatchObject({
      name: "laptop",
      labels: { team: "data", os: "linux", arch: "arm64" },
      detectedLabels: { os: "linux", arch: "arm64" },
      slots: 4,
      state: "CONNECTED",
      sessionId: "s1",
      replicaId: "replica-1",
      connectedAt: at(0),
    });
  });

  it("updates a returning agent and keeps it cordoned", async () => {
    await registerAgent(t.db, profile(), session("s1"), [], at(0));
    await t.db
      .update(agents)
      .set({ cordoned: true, state: "CORDONED" })
      .where(eq(agents.id, "agent-1"));
    const again = await registerAgent(
      t.db,
      profile({ name: "renamed", slots: 8 }),
      session("s2"),
      [],
      at(5),
    );
    expect(again.cordoned).toBe(true);
    expect(await agentRow(t.db)).toMatchObject({
      name: "renamed",
      slots: 8,
      state: "CORDONED",
      sessionId: "s2",
      connectedAt: at(5),
    });
  });

  it("re-attaches only the leases the agent still holds", async () => {
    await start(t.db, workflow(task("kept"), task("done"), task("theirs")));
    const mine = await claimAll(t.db, at(1));
    await report(t.db, mine.get("done"), {}, at(2));
    await t.db
      .update(leases)
      .set({ agentId: "agent-2" })
      .where(eq(leases.id, mine.get("theirs").leaseId));
    const refs = ["kept", "done", "theirs"].map((id) => {
      const { leaseId, fencingToken } = mine.get(id);
      return { leaseId, fencingToken };
    });
    const stale = { ...refs[0], fencingToken: 99 } as (typeof refs)[0];
    const registration = await registerAgent(
      t.db,
      profile(),
      session("s1"),
      [...refs, stale],
      at(20),
    );
    expect(registration.reattached).toEqual([refs[0]]);
    const [kept] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, mine.get("kept").leaseId));
    expect(kept?.expiresAt).toEqual(new Date(at(20).getTime() + LEASE_TTL_MS));
  });

  it("counts a re-attached lease as acknowledged: its attempt is running", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    // The acknowledgement was lost with the control plane that got it.
    const lease = (await claimAll(t.db, at(1))).get("a");
    const ref = { leaseId: lease.leaseId, fencingToken: lease.fencingToken };
    await registerAgent(t.db, profile(), session("s2"), [ref], at(3));
    const [row] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, lease.leaseId));
    expect(row?.state).toBe("ACTIVE");
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "RUNNING",
      startedAt: at(3),
    });
  });

  it("gives back at once an assignment the agent's new session does not list", async () => {
    const { runId } = await start(t.db, workflow(task("lost"), task("kept")));
    // Both granted to a session that ended; only `kept` reached the agent.
    const granted = await claimAll(t.db, at(1));
    const kept = granted.get("kept");
    const ref = { leaseId: kept.leaseId, fencingToken: kept.fencingToken };
    const registration = await registerAgent(
      t.db,
      profile(),
      session("s2"),
      [ref],
      at(2),
    );
    expect(registration.reattached).toEqual([ref]);
    expect(registration.returned).toBe(1);
    expect(await taskRow(t.db, runId, "lost")).toMatchObject({
      state: "QUEUED",
      attemptCount: 1,
      // Not counted against the task: the agent never had it.
      maxAttempts: 2,
    });
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, granted.get("lost").leaseId));
    expect(attempt).toMatchObject({ outcome: "LOST", retryClass: "returned" });
    expect((await taskRow(t.db, runId, "kept")).state).toBe("RUNNING");
  });

  it("ends at once a running attempt a restarted agent no longer lists", async () => {
    const { runId } = await start(
      t.db,
      workflow(task("gone", { retries: 1 }), task("kept")),
    );
    const running = await claimAll(t.db, at(1));
    const refs = ["gone", "kept"].map((id) => {
      const { leaseId, fencingToken } = running.get(id);
      return { leaseId, fencingToken };
    });
    await registerAgent(t.db, profile(), session("s1"), refs, at(2));
    // Another process with its id while s1 lives: s1's attempts are its
    // own to stop, and their leases to expire.
    const clone = await registerAgent(
      t.db,
      profile(),
      session("s2"),
      [],
      at(3),
    );
    expect(clone.returned).toBe(0);
    expect((await taskRow(t.db, runId, "gone")).state).toBe("RUNNING");
    await disconnectAgent(t.db, "agent-1", "s2");
    // SIGKILLed, its session seen to end, restarted on its state dir: it
    // runs `gone` no more (say it still held `kept`).
    const registration = await registerAgent(
      t.db,
      profile(),
      session("s3"),
      refs.slice(1),
      at(4),
    );
    expect(registration.returned).toBe(1);
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, running.get("gone").leaseId));
    expect(attempt).toMatchObject({
      outcome: "LOST",
      retryClass: "lost",
      error: "the agent came back without the attempt: it no longer runs",
    });
    // Its retry policy decides: one retry left, so it waits to run again.
    expect((await taskRow(t.db, runId, "gone")).state).toMatch(/RETRY|QUEUED/);
    expect((await taskRow(t.db, runId, "kept")).state).toBe("RUNNING");
  });

  it("ends at once what a process does not list when its session is its own or its dead predecessor's", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("dropped", { retries: 1 }),
        task("orphaned", { retries: 1 }),
        task("kept"),
      ),
    );
    const running = await claimAll(t.db, at(1));
    const ref = (id: string) => {
      const { leaseId, fencingToken } = running.get(id);
      return { leaseId, fencingToken };
    };
    const all = ["dropped", "orphaned", "kept"].map(ref);
    const outcome = async (id: string) => {
      const [attempt] = await t.db
        .select()
        .from(attempts)
        .where(eq(attempts.leaseId, running.get(id).leaseId));
      return attempt?.outcome ?? null;
    };
    const first = profile({ processToken: "process-a" });
    await registerAgent(t.db, first, session("s1"), all, at(2));
    expect((await agentRow(t.db)).processToken).toBe("process-a");
    // The same process again while s1 still looks live (its stream was cut
    // and not yet seen to end): it runs what it lists, and no more.
    const again = await registerAgent(
      t.db,
      first,
      session("s2"),
      all.filter((r) => r.leaseId !== ref("dropped").leaseId),
      at(3),
    );
    expect(again.returned).toBe(1);
    expect(await outcome("dropped")).toBe("LOST");
    expect(await outcome("orphaned")).toBeNull();
    // Killed with s2 live, restarted on its state dir: the new process took
    // over process-a's lock, so process-a runs nothing any more.
    const restarted = await registerAgent(
      t.db,
      profile({ processToken: "process-b", predecessorToken: "process-a" }),
      session("s3"),
      [ref("kept")],
      at(4),
    );
    expect(restarted.returned).toBe(1);
    expect(await outcome("orphaned")).toBe("LOST");
    expect((await taskRow(t.db, runId, "orphaned")).state).toMatch(
      /RETRY|QUEUED/,
    );
    expect((await taskRow(t.db, runId, "kept")).state).toBe("RUNNING");
    expect((await agentRow(t.db)).processToken).toBe("process-b");
  });

  it("leaves to another process the attempts of a live session it cannot vouch for", async () => {
    const { runId } = await start(t.db, workflow(task("theirs")));
    const running = await claimAll(t.db, at(1));
    const { leaseId, fencingToken } = running.get("theirs");
    await registerAgent(
      t.db,
      profile({ processToken: "process-a" }),
      session("s1"),
      [{ leaseId, fencingToken }],
      at(2),
    );
    // A copy of the state dir elsewhere: another token, and a predecessor
    // (or none) that is not the live session's.
    for (const [token, predecessor, id] of [
      ["process-c", "process-z", "s2"],
      ["process-d", "", "s3"],
    ] as const) {
      const clone = await registerAgent(
        t.db,
        profile({ processToken: token, predecessorToken: predecessor }),
        session(id),
        [],
        at(3),
      );
      expect(clone.returned).toBe(0);
    }
    expect((await taskRow(t.db, runId, "theirs")).state).toBe("RUNNING");
  });

  it("gives back nothing for a polling worker, which lists no leases", async () => {
    const { runId } = await start(t.db, workflow(task("polled")));
    await claimAll(t.db, at(1));
    const registration = await registerAgent(
      t.db,
      profile(),
      session(POLLING_SESSION),
      [],
      at(2),
    );
    expect(registration.returned).toBe(0);
    expect((await taskRow(t.db, runId, "polled")).state).toBe("ASSIGNED");
  });

  it("marks the agent disconnected only for its current session", async () => {
    await registerAgent(t.db, profile(), session("s1"), [], at(0));
    await registerAgent(t.db, profile(), session("s2"), [], at(1));
    await disconnectAgent(t.db, "agent-1", "s1");
    expect((await agentRow(t.db)).state).toBe("CONNECTED");
    await disconnectAgent(t.db, "agent-1", "s2");
    expect(await agentRow(t.db)).toMatchObject({
      state: "DISCONNECTED",
      sessionId: null,
    });
  });

  it("keeps agents apart", async () => {
    await registerAgent(t.db, profile(), session("s1"), [], at(0));
    await registerAgent(
      t.db,
      profile({ agentId: "agent-2", labels: { gpu: "h100" } }),
      session("s9"),
      [],
      at(0),
    );
    expect((await agentRow(t.db, "agent-2")).labels).toEqual({
      gpu: "h100",
      os: "linux",
      arch: "arm64",
    });
    expect((await agentRow(t.db)).labels).toMatchObject({ team: "data" });
  });
});
