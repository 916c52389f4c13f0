import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ControlPlane,
  startControlPlane,
} from "../../control-plane/index.js";
import { isSessionSuperseded } from "../../core/index.js";
import {
  AttemptOutcome,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import {
  type CapturedLogger,
  captureLogger,
} from "../support/capture-logger.js";
import { pollUntil } from "../support/poll-until.js";
import { checkRunHistory } from "../support/run-history.js";
import {
  killTrackedRunProcesses,
  trackRunProcesses,
} from "../support/run-processes.js";
import { firstAttemptHangs, startInline } from "../support/runs.js";
import {
  assignmentsIn,
  openScriptedAgent,
  type ScriptedAgent,
} from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForRunEnd, waitForTaskState } from "../support/watch-run.js";

/** Short, so that a superseded agent's lease runs out soon. */
const LEASE_TTL_MS = 2000;

const longFirstAttempt = firstAttemptHangs("superseded-lease");

const SUPERSEDED = "session superseded by a newer session of its agent id";

const quickTasks = {
  name: "after-supersede",
  tasks: ["a", "b", "c"].map((id) => ({
    id,
    type: "shell",
    command: `echo "ran=${id}" >> "$DEERFLOW_OUTPUT"`,
  })),
};

describe.each(testBackends())(
  "two sessions of one agent id on $name",
  (backend) => {
    let cp: TestControlPlane;
    let logs: CapturedLogger;
    const scripted: ScriptedAgent[] = [];
    const dirs: string[] = [];
    beforeEach(async () => {
      logs = captureLogger();
      cp = await startTestControlPlane(backend, {
        leaseTtlMs: LEASE_TTL_MS,
        logger: logs.logger,
      });
    });
    afterEach(async () => {
      for (const agent of scripted.splice(0)) await agent.close();
      await stopAllAgents();
      await killTrackedRunProcesses();
      await cp.close();
      for (const dir of dirs.splice(0)) {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("a copied state dir: the older agent is superseded and exits; the newer runs each task once", async () => {
      const first = await spawnAgent({ serverUrl: cp.url, name: "first" });
      await waitForAgents(cp.clients, ["first"]);
      const [row] = (await cp.clients.agents.listAgents({})).agents;
      const agentId = row?.id ?? "";

      // A copy of the first agent's state dir: the same agent id.
      const copied = await mkdtemp(join(tmpdir(), "deerflow-agent-copy-"));
      dirs.push(copied);
      await copyFile(
        join(first.stateDir, "agent-id"),
        join(copied, "agent-id"),
      );
      const second = await spawnAgent({
        serverUrl: cp.url,
        name: "second",
        stateDir: copied,
      });

      // The older one stops rather than reconnecting to fight back.
      const exit = await first.exited;
      expect(typeof exit === "number" && exit > 0, String(exit)).toBe(true);
      expect(first.output()).toContain(
        `superseded by a newer session of agent ${agentId} from 127.0.0.1:`,
      );
      expect(first.output()).toContain("give each agent its own state dir");
      const superseded = logs.lines().filter((l) => l.msg === SUPERSEDED);
      expect(superseded).toHaveLength(1);
      expect(superseded[0]).toMatchObject({
        agent_id: agentId,
        agent_name: "first",
        newer_agent_name: "second",
        peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        newer_peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      });
      await waitForAgents(cp.clients, ["second"]);

      const run = await waitForRunEnd(
        cp.clients,
        await startInline(cp.clients, quickTasks),
      );
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      for (const t of run.tasks) {
        expect(t.attempts.map((a) => AttemptOutcome[a.outcome])).toEqual([
          "SUCCESS",
        ]);
        expect(t.attempts[0]?.agentId).toBe(agentId);
      }
      expect(second.child.exitCode).toBeNull();
    });

    it("a lease of the superseded agent is not re-attached: it expires, and the retry runs on the newer session", async () => {
      const first = await spawnAgent({
        serverUrl: cp.url,
        name: "first",
        slots: 1,
      });
      await waitForAgents(cp.clients, ["first"]);
      const runId = await startInline(cp.clients, longFirstAttempt);
      trackRunProcesses(runId);
      const running = await waitForTaskState(
        cp.clients,
        runId,
        "work",
        TaskState.RUNNING,
        1,
      );

      // The same id from elsewhere (a cloned host): it knows nothing of
      // the first agent's lease, and kills none of its processes.
      const clone = await openScriptedAgent(cp.url, {
        name: "clone",
        agentId: running.agentId,
      });
      scripted.push(clone);
      const exit = await first.exited;
      expect(typeof exit === "number" && exit > 0, String(exit)).toBe(true);
      expect(first.output()).toContain("superseded by a newer session");

      // The first agent killed attempt 1 as it stopped; its lease runs
      // out, and attempt 2 goes to the clone.
      clone.send({ case: "credit", value: { freeSlots: 1 } });
      const message = await clone.next(
        (r) => assignmentsIn(r).length > 0,
        "the retry's assignment",
      );
      const [retry] = assignmentsIn(message);
      expect(retry?.attempt).toBe(2);
      const lease = retry?.lease;
      clone.send({ case: "acknowledge", value: { lease } });
      clone.send({
        case: "result",
        value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
      });
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      expect(
        run.tasks[0]?.attempts.map((a) => [
          a.number,
          AttemptOutcome[a.outcome],
        ]),
      ).toEqual([
        [1, "LOST"],
        [2, "SUCCESS"],
      ]);
      const history = await checkRunHistory(cp.controlPlane.database.db, runId);
      expect(history.leases.map((l) => [l.attempt, l.state]).sort()).toEqual([
        [1, "EXPIRED"],
        [2, "RELEASED"],
      ]);
    });

    it("the same agent reconnecting before its old stream is seen dead re-attaches its lease", async () => {
      const old = await openScriptedAgent(cp.url, { name: "same" });
      scripted.push(old);
      old.send({ case: "credit", value: { freeSlots: 1 } });
      const runId = await startInline(cp.clients, {
        name: "reconnect",
        tasks: [{ id: "a", type: "shell", command: "true" }],
      });
      const message = await old.next(
        (r) => assignmentsIn(r).length > 0,
        "an assignment",
      );
      const [assignment] = assignmentsIn(message);
      const lease = assignment?.lease;
      if (lease === undefined) throw new Error("assignment without a lease");
      old.send({ case: "acknowledge", value: { lease } });
      await waitForTaskState(cp.clients, runId, "a", TaskState.RUNNING, 1);

      const again = await openScriptedAgent(cp.url, {
        name: "same",
        agentId: old.agentId,
        heldLeases: [lease],
      });
      scripted.push(again);
      const welcome = again.received()[0]?.message;
      expect(
        welcome?.case === "welcome" &&
          welcome.value.reattachedLeases.map((l) => l.leaseId),
      ).toEqual([lease.leaseId]);
      const ended = await pollUntil(
        async () => old.ended() ?? undefined,
        "the old session's end",
      );
      expect(isSessionSuperseded(ended)).toBe(true);

      again.send({
        case: "result",
        value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
      });
      const ack = await again.next(
        (r) => r.message.case === "resultAck",
        "the result's acknowledgement",
      );
      expect(ack.message.value).toMatchObject({ accepted: true });
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      expect(
        run.tasks[0]?.attempts.map((a) => AttemptOutcome[a.outcome]),
      ).toEqual(["SUCCESS"]);
    });
  },
);

// Replicas share one PostgreSQL database; PGlite has one process only.
const postgres = testBackends().find((b) => b.name === "postgres");

describe.runIf(postgres)("two sessions of one agent id on two replicas", () => {
  let a: TestControlPlane;
  let b: ControlPlane | undefined;
  let logs: CapturedLogger;
  const scripted: ScriptedAgent[] = [];
  beforeEach(async () => {
    if (!postgres) return;
    logs = captureLogger();
    a = await startTestControlPlane(postgres, { logger: logs.logger });
    b = await startControlPlane({
      listen: "127.0.0.1:0",
      databaseUrl: a.database.url,
      secrets: { key: randomBytes(32).toString("base64") },
      logger: logs.logger,
    });
  });
  afterEach(async () => {
    for (const agent of scripted.splice(0)) await agent.close();
    await b?.close();
    b = undefined;
    await a.close();
  });

  it("the session on the other replica is superseded; the newer one stays", async () => {
    if (b === undefined) throw new Error("no second replica");
    const older = await openScriptedAgent(a.url, { name: "older" });
    scripted.push(older);
    const newer = await openScriptedAgent(b.url, {
      name: "newer",
      agentId: older.agentId,
    });
    scripted.push(newer);
    const ended = await pollUntil(
      async () => older.ended() ?? undefined,
      "the older session's end",
    );
    expect(isSessionSuperseded(ended)).toBe(true);
    expect(logs.lines().filter((l) => l.msg === SUPERSEDED)[0]).toMatchObject({
      agent_name: "older",
      newer_agent_name: "newer",
    });

    // The newer session still answers, and the row names it.
    newer.send({ case: "heartbeat", value: { leases: [] } });
    await newer.next(
      (r) => r.message.case === "heartbeatAck",
      "a heartbeat ack",
    );
    expect(newer.ended()).toBeNull();
    const { agent } = await a.clients.agents.getAgent({
      agent: older.agentId,
    });
    expect(agent?.name).toBe("newer");
  });
});
