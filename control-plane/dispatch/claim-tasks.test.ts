import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { attempts, leases } from "../db/index.js";
import { promoteDueRetries } from "../leases/expire-leases.js";
import {
  ACK_DEADLINE_MS,
  agent,
  at,
  claim,
  claimAll,
  failure,
  LEASE_TTL_MS,
  only,
  report,
  start,
  task,
  taskRow,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { type ClaimedAssignment, claimTasks } from "./claim-tasks.js";

describe.each(testBackends())("claimTasks on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("claims higher priority first, then the oldest", async () => {
    await start(t.db, workflow(task("old-low")), at(0));
    await start(t.db, workflow(task("new-low")), at(5));
    await start(t.db, workflow(task("new-high", { priority: 9 })), at(9));
    await start(t.db, workflow(task("mid", { priority: 3 })), at(7));
    const order: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const claimed = await claim(t.db, agent(), at(10 + i), 1);
      order.push(...claimed.map((c) => c.taskId));
    }
    expect(order).toEqual(["new-high", "mid", "old-low", "new-low"]);
  });

  it("claims only the task types the agent provides", async () => {
    const { runId } = await start(
      t.db,
      workflow(
        task("sh"),
        task("web", { type: "http", config: { url: "http://127.0.0.1" } }),
      ),
    );
    expect(await claim(t.db, agent("none", {}, []))).toEqual([]);
    const web = only(await claim(t.db, agent("w", {}, ["http", "docker"])));
    expect(web).toMatchObject({ runId, taskId: "web", type: "http" });
    const sh = only(await claim(t.db, agent("s", {}, ["shell"])));
    expect(sh.taskId).toBe("sh");
  });

  it("matches node_selector against the agent's labels", async () => {
    await start(
      t.db,
      workflow(
        task("gpu", { node_selector: { gpu: "h100", zone: "a" } }),
        task("anywhere"),
      ),
    );
    const partial = agent("partial", { gpu: "h100" });
    const wrong = agent("wrong", { gpu: "a100", zone: "a", os: "linux" });
    expect((await claim(t.db, partial, at(1), 1)).map((c) => c.taskId)).toEqual(
      ["anywhere"],
    );
    expect(await claim(t.db, wrong)).toEqual([]);
    const right = agent("right", { gpu: "h100", zone: "a", os: "linux" });
    expect(only(await claim(t.db, right)).taskId).toBe("gpu");
  });

  it("claims no more than the limit", async () => {
    await start(
      t.db,
      workflow(task("a"), task("b"), task("c"), task("d"), task("e")),
    );
    expect(await claim(t.db, agent(), at(1), 0)).toEqual([]);
    expect(await claim(t.db, agent(), at(1), 2)).toHaveLength(2);
    expect(await claim(t.db, agent(), at(1), 10)).toHaveLength(3);
    expect(await claim(t.db, agent(), at(1), 10)).toEqual([]);
  });

  it("writes a granted lease and an attempt for each claim", async () => {
    const { runId } = await start(t.db, workflow(task("a"), task("b")));
    const claimed = await claimAll(t.db, at(1), agent("agent-7"));
    const a = claimed.get("a");
    expect(a).toMatchObject({ attempt: 1, fencingToken: 1 });
    expect(claimed.get("b")).toMatchObject({ attempt: 1, fencingToken: 1 });
    const [lease] = await t.db
      .select()
      .from(leases)
      .where(eq(leases.id, a.leaseId));
    expect(lease).toEqual({
      id: a.leaseId,
      runId,
      taskId: "a",
      attempt: 1,
      agentId: "agent-7",
      fencingToken: 1,
      state: "GRANTED",
      ttlMs: LEASE_TTL_MS,
      grantedAt: at(1),
      ackDeadlineAt: new Date(at(1).getTime() + ACK_DEADLINE_MS),
      expiresAt: new Date(at(1).getTime() + LEASE_TTL_MS),
      releasedAt: null,
      resources: null,
      stoppedAt: null,
    });
    const [attempt] = await t.db
      .select()
      .from(attempts)
      .where(eq(attempts.leaseId, a.leaseId));
    expect(attempt).toMatchObject({
      runId,
      taskId: "a",
      number: 1,
      fencingToken: 1,
      agentId: "agent-7",
      outcome: null,
      assignedAt: at(1),
    });
    expect(await taskRow(t.db, runId, "a")).toMatchObject({
      state: "ASSIGNED",
      agentId: "agent-7",
      attemptCount: 1,
      fencingToken: 1,
    });
  });

  it("raises the fencing token of a task with every new attempt", async () => {
    const { runId } = await start(t.db, workflow(task("a", { retries: 2 })));
    const first = (await claimAll(t.db, at(1))).get("a");
    await report(t.db, first, failure(), at(2));
    expect(await promoteDueRetries(t.db, at(60))).toBe(1);
    const second = (await claimAll(t.db, at(61))).get("a");
    expect(second).toMatchObject({ attempt: 2, fencingToken: 2 });
    expect(second.leaseId).not.toBe(first.leaseId);
    const numbers = await t.db
      .select({ number: attempts.number, token: attempts.fencingToken })
      .from(attempts)
      .where(and(eq(attempts.runId, runId), eq(attempts.taskId, "a")))
      .orderBy(attempts.number);
    expect(numbers).toEqual([
      { number: 1, token: 1 },
      { number: 2, token: 2 },
    ]);
  });

  it("hands over config, env, timeout and template values", async () => {
    const definition = workflow(
      task("list"),
      task("use", {
        depends_on: ["list"],
        config: { command: "wc ${tasks.list.output.path} ${params.day}" },
        env: { MODE: "fast" },
        timeout: 90,
      }),
    );
    definition.params = { day: "monday" };
    const { runId } = await start(t.db, definition, at(0));
    const list = (await claimAll(t.db, at(1))).get("list");
    await report(t.db, list, { output: { path: "/tmp/x" } }, at(2));
    const use: ClaimedAssignment = (await claimAll(t.db, at(3))).get("use");
    expect(use).toMatchObject({
      runId,
      type: "shell",
      config: { command: "wc ${tasks.list.output.path} ${params.day}" },
      env: { MODE: "fast" },
      timeoutMs: 90_000,
      context: {
        params: { day: "monday" },
        tasks: {
          list: { status: "SUCCESS", output: { path: "/tmp/x" }, attempts: 1 },
        },
        run: { id: runId, name: "wf", started_at: at(0).toISOString() },
        task: { id: "use", attempt: 1 },
      },
    });
  });

  it("gives a keep_running task a lease that lives for its lost_after", async () => {
    await start(
      t.db,
      workflow(
        task("plain"),
        task("sticky", {
          on_agent_disconnect: "keep_running",
          lost_after: 600,
        }),
        // Whole milliseconds on the wire, never shorter than asked.
        task("brief", {
          on_agent_disconnect: "keep_running",
          lost_after: 0.0004,
          timeout: 0.0015,
        }),
      ),
      at(0),
    );
    const claimed = await claimAll(t.db, at(1));
    expect(claimed.get("plain")).toMatchObject({
      onAgentDisconnect: "kill",
      leaseTtlMs: LEASE_TTL_MS,
    });
    expect(claimed.get("sticky")).toMatchObject({
      onAgentDisconnect: "keep_running",
      leaseTtlMs: 600_000,
    });
    expect(claimed.get("brief")).toMatchObject({
      leaseTtlMs: 1,
      timeoutMs: 2,
    });
    const [row] = await t.db
      .select({ expiresAt: leases.expiresAt, ttlMs: leases.ttlMs })
      .from(leases)
      .where(eq(leases.id, claimed.get("sticky").leaseId));
    expect(row).toEqual({
      ttlMs: 600_000,
      expiresAt: new Date(at(1).getTime() + 600_000),
    });
  });

  it("says when the queue ran dry for the agent, or for every agent", async () => {
    await start(t.db, workflow(task("a"), task("b"), task("c")));
    const options = {
      leaseTtlMs: LEASE_TTL_MS,
      ackDeadlineMs: ACK_DEADLINE_MS,
      now: at(1),
    };
    const full = await claimTasks(t.db, agent(), { ...options, limit: 2 });
    expect(full.assignments).toHaveLength(2);
    expect(full).toMatchObject({ ranDry: false, queueEmpty: false });
    const last = await claimTasks(t.db, agent(), { ...options, limit: 2 });
    expect(last.assignments).toHaveLength(1);
    // It took the last queued task: no agent would find anything now.
    expect(last).toMatchObject({ ranDry: true, queueEmpty: true });
    // A task that does not fit the agent leaves it dry, but the queue not
    // empty: another agent may take it.
    await start(t.db, workflow(task("gpu", { node_selector: { gpu: "x" } })));
    expect(await claimTasks(t.db, agent(), { ...options, limit: 2 })).toEqual({
      assignments: [],
      ranDry: true,
      queueEmpty: false,
      waitsForRoom: false,
    });
    const gpu = agent("gpu-1", { gpu: "x" });
    const taken = await claimTasks(t.db, gpu, { ...options, limit: 2 });
    expect(taken.assignments.map((a) => a.taskId)).toEqual(["gpu"]);
    expect(taken.queueEmpty).toBe(true);
  });

  it("passes over a run at its concurrency to other runs' tasks", async () => {
    await start(t.db, {
      ...workflow(task("a"), task("b"), task("c")),
      concurrency: 1,
    });
    const options = {
      limit: 10,
      leaseTtlMs: LEASE_TTL_MS,
      ackDeadlineMs: ACK_DEADLINE_MS,
      now: at(1),
    };
    const first = await claimTasks(t.db, agent(), { ...options, limit: 2 });
    expect(first.assignments.map((a) => a.taskId)).toEqual(["a"]);
    // Two candidates, one dropped: not dry.
    expect(first).toMatchObject({ ranDry: false, queueEmpty: false });
    await start(t.db, workflow(task("other")), at(1));
    const next = await claimTasks(t.db, agent(), options);
    expect(next.assignments.map((a) => a.taskId)).toEqual(["other"]);
    // The limited run's tasks wait for room, which wakes dispatchers.
    expect(next).toMatchObject({ ranDry: true, queueEmpty: false });
  });

  it("claims nothing when the agent has no types or no room", async () => {
    await start(t.db, workflow(task("a")));
    const options = {
      limit: 5,
      leaseTtlMs: LEASE_TTL_MS,
      ackDeadlineMs: ACK_DEADLINE_MS,
      now: at(1),
    };
    expect(await claimTasks(t.db, agent("x", {}, []), options)).toEqual({
      assignments: [],
      ranDry: true,
      queueEmpty: false,
      waitsForRoom: false,
    });
    expect(await claimTasks(t.db, agent(), { ...options, limit: -1 })).toEqual({
      assignments: [],
      ranDry: false,
      queueEmpty: false,
      waitsForRoom: false,
    });
    expect(only(await claim(t.db, agent())).taskId).toBe("a");
  });
});

describe.each(testBackends().filter((b) => b.name === "postgres"))(
  "claimTasks across connections on $name",
  (backend) => {
    const t = useTestDatabase(backend);

    it("skips rows another claimer holds instead of waiting", async () => {
      await start(
        t.db,
        workflow(...["a", "b", "c", "d"].map((id) => task(id))),
      );
      const other = await t.openAnother();
      let secondClaim: ClaimedAssignment[] = [];
      const firstClaim = await t.db.transaction(async (tx) => {
        const { assignments: mine } = await claimTasks(tx, agent("one"), {
          limit: 2,
          leaseTtlMs: LEASE_TTL_MS,
          ackDeadlineMs: ACK_DEADLINE_MS,
          now: at(1),
        });
        // Still inside the first transaction: its rows stay locked.
        secondClaim = await claim(other.db, agent("two"), at(1), 10);
        return mine;
      });
      const first = firstClaim.map((c) => c.taskId).sort();
      const second = secondClaim.map((c) => c.taskId).sort();
      expect(first).toEqual(["a", "b"]);
      expect(second).toEqual(["c", "d"]);
    });

    it("never gives one task to two concurrent claimers", async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `t${i}`);
      await start(t.db, workflow(...ids.map((id) => task(id))));
      const other = await t.openAnother();
      const drain = async (name: string, db: typeof t.db) => {
        const got: string[] = [];
        for (;;) {
          const claimed = await claim(db, agent(name), at(1), 3);
          if (claimed.length === 0) return got;
          got.push(...claimed.map((c) => c.taskId));
        }
      };
      const results = await Promise.all([
        drain("one", t.db),
        drain("two", other.db),
        drain("three", t.db),
        drain("four", other.db),
      ]);
      const all = results.flat();
      expect(all.sort()).toEqual([...ids].sort());
      const rows = await t.db.select().from(leases);
      expect(rows).toHaveLength(ids.length);
      expect(rows.every((r) => r.fencingToken === 1)).toBe(true);
    });
  },
);
