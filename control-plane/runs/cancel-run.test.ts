import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { attempts, leases, runEvents } from "../db/index.js";
import { acknowledgeLease } from "../leases/acknowledge-lease.js";
import { type AgentCommand, Channels } from "../notify/channels.js";
import {
  agent,
  at,
  claim,
  claimAll,
  failure,
  history,
  listenFor,
  report,
  runRow,
  start,
  task,
  taskStates,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { cancelRun } from "./cancel-run.js";

describe.each(testBackends())("cancelRun on $name", (backend) => {
  const t = useTestDatabase(backend);

  /**
   * A run with a task in each live state: done (SUCCESS), running
   * (RUNNING), assigned (ASSIGNED), waiting (QUEUED), retrying (RETRY),
   * blocked (CREATED).
   */
  async function busyRun() {
    const { runId } = await start(
      t.db,
      workflow(
        task("done"),
        task("running"),
        task("assigned", { type: "http", config: { url: "x" } }),
        task("retrying", { type: "python", config: {}, retries: 3 }),
        task("waiting", { type: "docker", config: {} }),
        task("blocked", { depends_on: ["running"] }),
      ),
    );
    const shell = await claimAll(t.db, at(1));
    await report(t.db, shell.get("done"), {}, at(2));
    const running = shell.get("running");
    await acknowledgeLease(t.db, "agent-1", running, at(2));
    const [assigned] = await claim(t.db, agent("agent-2", {}, ["http"]));
    const [retrying] = await claim(t.db, agent("agent-1", {}, ["python"]));
    if (!assigned || !retrying) throw new Error("claims failed");
    await report(t.db, retrying, failure(), at(3));
    return { runId, running, assigned };
  }

  it("kills what has not finished and revokes the leases", async () => {
    const { runId, running, assigned } = await busyRun();
    expect(await cancelRun(t.db, runId, "not needed", at(10))).toBe(
      "cancelled",
    );
    expect(await taskStates(t.db, runId)).toEqual({
      done: "SUCCESS",
      running: "KILLED",
      assigned: "KILLED",
      retrying: "KILLED",
      waiting: "KILLED",
      blocked: "KILLED",
    });
    expect(await runRow(t.db, runId)).toMatchObject({
      state: "CANCELLED",
      error: "not needed",
      finishedAt: at(10),
    });
    for (const lease of [running, assigned]) {
      const [row] = await t.db
        .select()
        .from(leases)
        .where(eq(leases.id, lease.leaseId));
      expect(row).toMatchObject({ state: "REVOKED", releasedAt: at(10) });
      const [attempt] = await t.db
        .select()
        .from(attempts)
        .where(eq(attempts.leaseId, lease.leaseId));
      expect(attempt).toMatchObject({ outcome: "KILLED", finishedAt: at(10) });
    }
    const events = await history(t.db, runId);
    expect(events.at(-1)).toBe("run:CANCELLED");
    expect(events.slice(-6, -1).sort()).toEqual(
      ["assigned", "blocked", "retrying", "running", "waiting"].map(
        (id) => `${id}:KILLED`,
      ),
    );
    // Each KILLED event names the attempt it stopped (0 where none began)
    // and the agent that was running it (none where no lease was held).
    const killed = await t.db
      .select({
        taskId: runEvents.taskId,
        attempt: runEvents.attempt,
        agentId: runEvents.agentId,
      })
      .from(runEvents)
      .where(and(eq(runEvents.runId, runId), eq(runEvents.state, "KILLED")));
    expect(
      Object.fromEntries(killed.map((e) => [e.taskId, [e.attempt, e.agentId]])),
    ).toEqual({
      running: [1, "agent-1"],
      assigned: [1, "agent-2"],
      retrying: [1, ""],
      waiting: [0, ""],
      blocked: [0, ""],
    });
  });

  it("tells the agents that hold leases to stop", async () => {
    const { runId, running, assigned } = await busyRun();
    const want = new Set([running.leaseId, assigned.leaseId]);
    const seen: AgentCommand[] = [];
    let done = () => {};
    const both = new Promise<void>((resolve) => {
      done = resolve;
    });
    const stop = await t.database.listen(Channels.agentCommand, (payload) => {
      const command = JSON.parse(payload) as AgentCommand;
      if (command.kind === "cancel" && want.has(command.leaseId)) {
        seen.push(command);
        if (seen.length === want.size) done();
      }
    });
    try {
      await cancelRun(t.db, runId, "", at(10));
      await both;
    } finally {
      await stop();
    }
    const byLease = (id: string) =>
      seen.find((c) => c.kind === "cancel" && c.leaseId === id);
    expect(byLease(running.leaseId)).toEqual({
      kind: "cancel",
      agentId: "agent-1",
      leaseId: running.leaseId,
      fencingToken: running.fencingToken,
      reason: "cancelled",
    });
    expect(byLease(assigned.leaseId)).toMatchObject({ agentId: "agent-2" });
  });

  it("tells watchers that the run changed", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    const watch = await listenFor(
      t.database,
      Channels.runEvent,
      (payload) => payload === runId,
    );
    try {
      await cancelRun(t.db, runId, "", at(1));
      expect(await watch.received).toBe(runId);
    } finally {
      await watch.stop();
    }
    expect((await runRow(t.db, runId)).error).toBe("cancelled");
  });

  it("leaves a finished run as it was", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    await report(t.db, (await claimAll(t.db, at(1))).get("a"), {}, at(2));
    const before = await runRow(t.db, runId);
    const events = await history(t.db, runId);
    expect(await cancelRun(t.db, runId, "too late", at(3))).toBe(
      "already_finished",
    );
    expect(await runRow(t.db, runId)).toEqual(before);
    expect(await taskStates(t.db, runId)).toEqual({ a: "SUCCESS" });
    expect(await history(t.db, runId)).toEqual(events);
  });

  it("cancels once, and knows no unknown run", async () => {
    const { runId } = await start(t.db, workflow(task("a")));
    expect(await cancelRun(t.db, runId, "", at(1))).toBe("cancelled");
    expect(await cancelRun(t.db, runId, "", at(2))).toBe("already_finished");
    expect(await cancelRun(t.db, crypto.randomUUID(), "", at(2))).toBe(
      "not_found",
    );
  });

  it("dispatches nothing more from a cancelled run", async () => {
    const { runId } = await start(t.db, workflow(task("a"), task("b")));
    await cancelRun(t.db, runId, "", at(1));
    expect(await claim(t.db, agent(), at(2))).toEqual([]);
  });
});
