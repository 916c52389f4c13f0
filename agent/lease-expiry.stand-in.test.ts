import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Assignment, LeaseRef } from "../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import { ManualClock } from "./manual-clock.js";
import {
  assignment,
  capturedLogger,
  gate,
  testPlugins,
} from "./session-test-kit.js";
import {
  StandInControlPlane,
  type StandInSession,
} from "./stand-in-control-plane.js";
import { type RunningAgent, startAgent } from "./start-agent.js";

const SELF_KILL = "lease not renewed in time; killing its attempt";
const KEPT = "lease not renewed in time; attempt keeps running";
/** Heartbeats every 100 ms, leases for 400 ms: the watch checks each 100. */
const TIMING = { heartbeatIntervalMs: 100, leaseTtlMs: 400 };

describe("the agent's leases against a stand-in control plane", () => {
  let controlPlane: StandInControlPlane;
  let dir: string;
  let clock: ManualClock;
  let captured: ReturnType<typeof capturedLogger>;
  const agents: RunningAgent[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-agent-lease-test-"));
    controlPlane = await new StandInControlPlane().start();
    clock = new ManualClock();
    captured = capturedLogger();
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Starts an agent on the manual clock and welcomes it, answering its
   * first heartbeat as the control plane would. A reconnect delay of at
   * most 1 ms is always 0, so reconnects need no clock steps.
   */
  async function startWelcomed(): Promise<StandInSession> {
    const agent = await startAgent({
      serverUrl: controlPlane.url,
      name: "lease-agent",
      slots: 2,
      stateDir: join(dir, "state"),
      workRoot: dir,
      plugins: [testPlugins],
      reconnect: { initialDelayMs: 1, maxDelayMs: 1 },
      logger: captured.logger,
      clock,
      gpuProbe: async () => [],
    });
    agents.push(agent);
    const session = await controlPlane.nextSession();
    await session.welcome(TIMING);
    await session.next("credit", (c) => c.freeSlots === 2);
    await session.next("heartbeat");
    await ack(session);
    return session;
  }

  async function ack(session: StandInSession, stale: LeaseRef[] = []) {
    session.send({ case: "heartbeatAck", value: { staleLeases: stale } });
    await captured.next("heartbeat acknowledged");
  }

  async function run(session: StandInSession, task: Assignment) {
    session.send({ case: "assignment", value: task });
    await session.next("acknowledge", (a) => sameLease(a.lease, task));
    await gate(task.taskId).started;
  }

  it("kills an attempt whose heartbeats go unanswered past the lease TTL", async () => {
    const session = await startWelcomed();
    const task = assignment("wait");
    await run(session, task);
    await clock.advance(400);
    for (let beat = 0; beat < 4; beat += 1) {
      await session.next("heartbeat", (h) => h.leases.some(isLeaseOf(task)));
    }
    // 400 ms without renewal is not yet older than the TTL.
    expect(captured.records.filter((r) => r.msg === SELF_KILL)).toEqual([]);

    await clock.advance(100);
    const killed = await captured.next(SELF_KILL);
    expect(killed).toMatchObject({
      level: 40,
      lease_id: task.lease?.leaseId,
      run_id: "run-1",
      task_id: task.taskId,
      lease_ttl_ms: 400,
      unrenewed_ms: 500,
    });
    const result = await session.next("result");
    expect(result.lease?.leaseId).toBe(task.lease?.leaseId);
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.retryable).toBe(true);
    expect(result.output?.aborted).toBe("lost");
  });

  it("keeps an attempt whose heartbeats are answered, long past the TTL", async () => {
    const session = await startWelcomed();
    const task = assignment("wait");
    await run(session, task);
    for (let beat = 0; beat < 10; beat += 1) {
      await clock.advance(100);
      await session.next("heartbeat", (h) => h.leases.some(isLeaseOf(task)));
      await ack(session);
    }
    gate(task.taskId).release();
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    expect(captured.records.filter((r) => r.msg === SELF_KILL)).toEqual([]);
  });

  it("kills an attempt whose lease lapses while the stream is down, and reports it after reconnecting", async () => {
    const first = await startWelcomed();
    const task = assignment("wait");
    await run(first, task);
    first.drop();
    const second = await controlPlane.nextSession();
    const hello = await second.hello();
    expect(hello.heldLeases.map((l) => l.leaseId)).toEqual([
      task.lease?.leaseId,
    ]);

    await clock.advance(500);
    const killed = await captured.next(SELF_KILL);
    expect(killed.unrenewed_ms).toBe(500);
    await captured.next("attempt finished");

    await second.welcome(TIMING);
    const result = await second.next("result");
    expect(result.lease?.leaseId).toBe(task.lease?.leaseId);
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.output?.aborted).toBe("lost");
    // The first heartbeat after the Welcome goes out with no clock step,
    // and none went out on the stream before it was welcomed.
    const beat = await second.next("heartbeat");
    expect(beat.leases).toEqual([]);
    const kinds = second.received.map((r) => r.message.case);
    expect(kinds.indexOf("heartbeat")).toBeGreaterThan(kinds.indexOf("credit"));
  });

  it("kills at reconnect a lease that lapsed while timers ran late", async () => {
    const first = await startWelcomed();
    const task = assignment("wait");
    await run(first, task);
    // A suspended host: the clock jumps and no timer has fired yet.
    clock.jump(1_000);
    first.drop();
    const second = await controlPlane.nextSession();
    const hello = await second.hello();
    expect(hello.heldLeases).toEqual([]);
    const killed = await captured.next(SELF_KILL);
    expect(killed.unrenewed_ms).toBe(1_000);
    await second.welcome(TIMING);
    const result = await second.next("result");
    expect(result.outcome).toBe(AttemptOutcome.LOST);
  });

  it("keeps a keep_running attempt through a disconnection and re-attaches it", async () => {
    const first = await startWelcomed();
    const task = keepRunning();
    await run(first, task);
    first.drop();
    const second = await controlPlane.nextSession();
    const hello = await second.hello();
    expect(hello.heldLeases.map((l) => l.leaseId)).toEqual([
      task.lease?.leaseId,
    ]);

    await clock.advance(2_000);
    const kept = await captured.next(KEPT);
    expect(kept).toMatchObject({
      level: 30,
      lease_id: task.lease?.leaseId,
      unrenewed_ms: 500,
    });
    expect(captured.records.filter((r) => r.msg === SELF_KILL)).toEqual([]);

    await second.welcome({ ...TIMING, reattachedLeases: [leaseOf(task)] });
    const beat = await second.next("heartbeat");
    expect(beat.leases.map((l) => l.leaseId)).toEqual([task.lease?.leaseId]);
    gate(task.taskId).release();
    const result = await second.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    expect(result.output?.released).toBe(true);
  });

  it("holds a keep_running result finished while disconnected until a Welcome", async () => {
    const first = await startWelcomed();
    const task = keepRunning();
    await run(first, task);
    first.drop();
    const second = await controlPlane.nextSession();
    await second.hello();
    gate(task.taskId).release();
    await captured.next("attempt finished");
    second.drop();

    const third = await controlPlane.nextSession();
    const hello = await third.welcome({
      ...TIMING,
      reattachedLeases: [leaseOf(task)],
    });
    expect(hello.heldLeases.map((l) => l.leaseId)).toEqual([
      task.lease?.leaseId,
    ]);
    const result = await third.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    expect(second.all("result")).toEqual([]);
  });

  it("aborts a keep_running attempt the Welcome does not re-attach", async () => {
    const first = await startWelcomed();
    const task = keepRunning();
    await run(first, task);
    first.drop();
    const second = await controlPlane.nextSession();
    await second.welcome(TIMING);
    const result = await second.next("result");
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.output?.aborted).toBe("lost");
  });

  it("stops attempts on a Cancel: lost reports LOST, stale sends nothing", async () => {
    const session = await startWelcomed();
    const lost = assignment("wait");
    const stale = assignment("wait");
    await run(session, lost);
    await run(session, stale);
    session.send({
      case: "cancel",
      value: { lease: lost.lease, reason: "lost" },
    });
    const result = await session.next("result");
    expect(result.lease?.leaseId).toBe(lost.lease?.leaseId);
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.output?.aborted).toBe("lost");

    session.send({
      case: "cancel",
      value: { lease: stale.lease, reason: "stale" },
    });
    // The slot frees once the attempt stopped; no result precedes it.
    await session.next("credit", (c) => c.freeSlots === 2);
    expect(session.all("result")).toHaveLength(1);
    await clock.advance(100);
    const beat = await session.next("heartbeat");
    expect(beat.leases).toEqual([]);

    const cancelled = assignment("wait");
    await run(session, cancelled);
    session.send({
      case: "cancel",
      value: { lease: cancelled.lease, reason: "cancelled" },
    });
    const killed = await session.next("result", (r) =>
      sameLease(r.lease, cancelled),
    );
    expect(killed.outcome).toBe(AttemptOutcome.KILLED);
  });

  it("kills an attempt the HeartbeatAck calls stale, and stops renewing it", async () => {
    const session = await startWelcomed();
    const task = assignment("wait");
    await run(session, task);
    await clock.advance(100);
    await session.next("heartbeat", (h) => h.leases.some(isLeaseOf(task)));
    await ack(session, [leaseOf(task)]);
    await session.next("credit", (c) => c.freeSlots === 2);
    expect(session.all("result")).toEqual([]);
    await clock.advance(100);
    expect((await session.next("heartbeat")).leases).toEqual([]);
  });
});

function keepRunning(): Assignment {
  return assignment("wait", {
    onAgentDisconnect: "keep_running",
    leaseTtlMs: 400,
  });
}

function leaseOf(task: Assignment): LeaseRef {
  if (task.lease === undefined) throw new Error("task.lease is required");
  return task.lease;
}

function sameLease(lease: LeaseRef | undefined, task: Assignment): boolean {
  return lease?.leaseId === task.lease?.leaseId;
}

function isLeaseOf(task: Assignment): (lease: LeaseRef) => boolean {
  return (lease) => sameLease(lease, task);
}
