import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BATCH_LIMITS } from "../core/index.js";
import {
  type LeaseRef,
  SessionResponseSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import packageJson from "../package.json" with { type: "json" };
import type { PluginFactory } from "../plugin-sdk/index.js";
import type { AgentOptions } from "./agent-options.js";
import {
  assignment,
  capturedLogger,
  gate,
  testPlugins,
} from "./session-test-kit.js";
import { StandInControlPlane } from "./stand-in-control-plane.js";
import { type RunningAgent, startAgent } from "./start-agent.js";

describe("agent session against a stand-in control plane", () => {
  let controlPlane: StandInControlPlane;
  let dir: string;
  const agents: RunningAgent[] = [];
  let captured: ReturnType<typeof capturedLogger>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-agent-test-"));
    controlPlane = await new StandInControlPlane().start();
    captured = capturedLogger();
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(options: Partial<AgentOptions> = {}) {
    const agent = await startAgent({
      serverUrl: controlPlane.url,
      name: "test-agent",
      labels: { zone: "lab" },
      slots: 2,
      stateDir: join(dir, "state"),
      workRoot: dir,
      plugins: [testPlugins],
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      logger: captured.logger,
      gpuProbe: async () => [
        { index: 0, type: "nvidia-h100", memoryBytes: 80 * 2 ** 30 },
      ],
      ...options,
    });
    agents.push(agent);
    return agent;
  }

  it("says hello with who it is, then offers its free slots", async () => {
    const agent = await start();
    const session = await controlPlane.nextSession();
    const hello = await session.welcome();
    expect(hello.agentId).toBe(agent.id);
    expect(hello.name).toBe("test-agent");
    expect(hello.version).toBe(packageJson.version);
    expect(hello.labels).toEqual({ zone: "lab" });
    expect(hello.detectedLabels).toMatchObject({
      os: process.platform,
      gpu_count: "1",
      gpu_type: "nvidia-h100",
    });
    expect(hello.resources?.gpus).toHaveLength(1);
    expect(hello.resources?.memoryBytes).toBeGreaterThan(0n);
    expect(hello.slots).toBe(2);
    expect(hello.taskTypes.map((t) => [t.type, t.pluginVersion])).toEqual([
      ["echo", "1.2.3"],
      ["wait", "0.0.1"],
    ]);
    expect(hello.taskTypes[0]?.configSchema).toMatchObject({
      properties: { message: { type: "string" } },
    });
    expect(hello.heldLeases).toEqual([]);
    await agent.ready;
    expect((await session.next("credit")).freeSlots).toBe(2);
  });

  it("leaves out the task types named by --without, unprobed, and refuses an unknown one", async () => {
    let probed = false;
    const probing: PluginFactory = (sdk) =>
      sdk.definePlugin({
        type: "engine",
        version: "1.0.0",
        configSchema: { type: "object" },
        probe: async () => {
          probed = true;
          return {};
        },
        execute: async () => ({}),
      });
    await start({ plugins: [testPlugins, probing], withoutTypes: ["engine"] });
    const session = await controlPlane.nextSession();
    const hello = await session.welcome();
    expect(hello.taskTypes.map((t) => t.type)).toEqual(["echo", "wait"]);
    expect(probed).toBe(false);
    expect(captured.records).toContainEqual(
      expect.objectContaining({
        msg: "task types left out",
        task_types: ["engine"],
      }),
    );

    await expect(
      start({ stateDir: join(dir, "other"), withoutTypes: ["dokcer"] }),
    ).rejects.toThrow(
      "--without dokcer: no loaded plugin provides this task type (loaded: echo, wait)",
    );
  });

  it("acks an assignment, streams its logs and delivers its result", async () => {
    await start();
    const session = await controlPlane.nextSession();
    await session.welcome();
    const task = assignment("echo", {
      config: { message: "hello ${params.name}" },
      params: { name: "deer" },
    });
    session.send({ case: "assignment", value: task });
    const ack = await session.next("acknowledge");
    expect(ack.lease?.leaseId).toBe(task.lease?.leaseId);
    const result = await session.next("result");
    const lines = session.all("logChunk").flatMap((chunk) => chunk.lines);
    expect(lines.map((l) => [l.stream, l.level, l.message])).toEqual([
      ["stdout", "", "to stdout"],
      ["stderr", "", "to stderr"],
      ["log", "info", "to the log"],
    ]);
    expect(lines.map((l) => l.sequence)).toEqual([1n, 2n, 3n]);
    expect(lines[2]?.fields).toEqual({ step: 1 });
    const points = session.all("metricBatch").flatMap((b) => b.points);
    expect(points.map((p) => [p.name, p.kind, p.value])).toEqual([
      ["items", "counter", 3],
    ]);
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    expect(result.exitCode).toBe(0);
    expect(result.output?.message).toBe("hello deer");
    expect(existsSync(String(result.output?.dir))).toBe(false);
    expect(result.startedAt).toBeDefined();
    expect(result.finishedAt).toBeDefined();

    session.send({
      case: "resultAck",
      value: { lease: task.lease, accepted: true },
    });
    // Acknowledged results are not held: the next Hello names no lease.
    await session.next("credit", (c) => c.freeSlots === 2);
    session.drop();
    const next = await controlPlane.nextSession();
    expect((await next.hello()).heldLeases).toEqual([]);
  });

  it("reads an assignment's config and context sent as JSON, and rejects bad JSON naming the field", async () => {
    await start();
    const session = await controlPlane.nextSession();
    const hello = await session.welcome();
    expect(hello.acceptsJsonValues).toBe(true);
    const asStructs = assignment("echo", {
      config: { message: "hello ${params.name}" },
      params: { name: "deer" },
    });
    const utf8 = new TextEncoder();
    const task = {
      ...asStructs,
      config: undefined,
      context: undefined,
      configJson: utf8.encode(JSON.stringify(asStructs.config)),
      contextJson: utf8.encode(JSON.stringify(asStructs.context)),
    };
    session.send({ case: "assignment", value: task });
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    expect(result.output?.message).toBe("hello deer");

    const bad = { ...assignment("echo"), contextJson: utf8.encode("[]") };
    session.send({ case: "assignment", value: bad });
    const rejected = await session.next("reject");
    expect(rejected.lease?.leaseId).toBe(bad.lease?.leaseId);
    expect(rejected.reason).toBe(
      "assignment.context_json: must be a JSON object, not an array",
    );
  });

  it("reads batches, and sends bursts as one when the control plane reads them", async () => {
    await start();
    const session = await controlPlane.nextSession();
    const hello = await session.welcome({ acceptsBatches: true });
    expect(hello.acceptsBatches).toBe(true);
    const tasks = [assignment("echo"), assignment("echo")];
    session.send({
      case: "batch",
      value: {
        messages: tasks.map((value) =>
          create(SessionResponseSchema, {
            message: { case: "assignment", value },
          }),
        ),
      },
    });
    for (const task of tasks) {
      const id = task.lease?.leaseId;
      await session.next("acknowledge", (a) => a.lease?.leaseId === id);
      const result = await session.next(
        "result",
        (r) => r.lease?.leaseId === id,
      );
      expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    }
    // Both acknowledgements were written in one turn: one batch at least.
    expect(session.batchesReceived).toBeGreaterThan(0);
  });

  it("keeps each batch under the size limit: large held results go one by one", async () => {
    await start({ slots: 3 });
    const first = await controlPlane.nextSession();
    await first.welcome({ acceptsBatches: true });
    const big = "x".repeat(700 * 1024);
    const tasks = [0, 1, 2].map(() =>
      assignment("echo", { config: { message: big } }),
    );
    for (const value of tasks) first.send({ case: "assignment", value });
    for (const task of tasks) {
      const id = task.lease?.leaseId;
      await first.next("result", (r) => r.lease?.leaseId === id);
    }
    // Unacknowledged: the next session gets all three again, in one turn.
    first.drop();
    const second = await controlPlane.nextSession();
    await second.welcome({ acceptsBatches: true });
    for (const task of tasks) {
      const id = task.lease?.leaseId;
      const again = await second.next("result", (r) => r.lease?.leaseId === id);
      expect(again.output?.message).toBe(big);
    }
    for (const size of second.batchSizes) {
      expect(size).toBeLessThanOrEqual(BATCH_LIMITS.maxBytes);
    }
  });

  it("runs a built-in shell task and reports its output", async () => {
    await start({ plugins: undefined });
    const session = await controlPlane.nextSession();
    const hello = await session.welcome();
    expect(hello.taskTypes.map((t) => t.type)).toContain("shell");
    const task = assignment("shell", {
      config: {
        command: `echo hi \${params.who}; echo '{"rows": 3}' > "$DEERFLOW_OUTPUT"`,
      },
      params: { who: "deer; exit 3" },
    });
    session.send({ case: "assignment", value: task });
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatchObject({ rows: 3, exit_code: 0 });
    expect(String(result.output?.stdout)).toContain("hi deer; exit 3");
    const lines = session.all("logChunk").flatMap((chunk) => chunk.lines);
    expect(lines).toContainEqual(
      expect.objectContaining({ stream: "stdout", message: "hi deer; exit 3" }),
    );

    const failing = assignment("shell", { config: { command: "exit 4" } });
    session.send({ case: "assignment", value: failing });
    const failed = await session.next("result");
    expect(failed.outcome).toBe(AttemptOutcome.FAILED);
    expect(failed.exitCode).toBe(4);
    expect(failed.retryable).toBe(true);
  });

  it("fails an attempt whose config does not render or fit, for good", async () => {
    await start();
    const session = await controlPlane.nextSession();
    await session.welcome();
    const task = assignment("echo", { config: { message: "${nowhere.x}" } });
    session.send({ case: "assignment", value: task });
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.FAILED);
    expect(result.retryable).toBe(false);
    expect(result.error).toMatch(/^config\.message: .*nowhere\.x/);

    // A rendered value the schema refuses: a number where a string goes.
    const typed = assignment("echo", {
      config: { message: "${params.count}" },
      params: { count: 5 },
    });
    session.send({ case: "assignment", value: typed });
    const refused = await session.next("result");
    expect(refused.outcome).toBe(AttemptOutcome.FAILED);
    expect(refused.retryable).toBe(false);
    expect(refused.error).toBe("config.message: must be string");
  });

  it("rejects a type it lacks and work beyond its slots", async () => {
    await start({ slots: 1 });
    const session = await controlPlane.nextSession();
    await session.welcome();
    await session.next("credit", (c) => c.freeSlots === 1);
    const unknown = assignment("spark");
    session.send({ case: "assignment", value: unknown });
    const rejected = await session.next("reject");
    expect(rejected.lease?.leaseId).toBe(unknown.lease?.leaseId);
    expect(rejected.reason).toMatch(/"spark" is not provided/);

    const first = assignment("wait");
    const second = assignment("wait");
    session.send({ case: "assignment", value: first });
    await session.next("credit", (c) => c.freeSlots === 0);
    session.send({ case: "assignment", value: second });
    const full = await session.next("reject");
    expect(full.lease?.leaseId).toBe(second.lease?.leaseId);
    expect(full.reason).toBe("no free slot");
    gate(first.taskId).release();
    expect((await session.next("result")).outcome).toBe(AttemptOutcome.SUCCESS);
  });

  it("kills an attempt on Cancel", async () => {
    await start();
    const session = await controlPlane.nextSession();
    await session.welcome();
    const task = assignment("wait");
    session.send({ case: "assignment", value: task });
    await gate(task.taskId).started;
    session.send({
      case: "cancel",
      value: { lease: task.lease, reason: "killed" },
    });
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.KILLED);
    expect(result.retryable).toBe(false);
    expect(result.output?.aborted).toBe("killed");
  });

  it("times an attempt out after timeout_ms", async () => {
    await start();
    const session = await controlPlane.nextSession();
    await session.welcome();
    const task = assignment("wait", { timeoutMs: 50 });
    session.send({ case: "assignment", value: task });
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(result.retryable).toBe(true);
    expect(result.retryClass).toBe("timeout");
    expect(result.output?.aborted).toBe("timeout");
  });

  it("keeps results and running leases across a dropped stream", async () => {
    await start({ slots: 3 });
    const first = await controlPlane.nextSession();
    await first.welcome();
    const done = assignment("echo");
    const kept = assignment("wait");
    const lost = assignment("wait");
    for (const task of [done, kept, lost]) {
      first.send({ case: "assignment", value: task });
    }
    const unacked = await first.next("result");
    expect(unacked.lease?.leaseId).toBe(done.lease?.leaseId);
    await Promise.all([gate(kept.taskId).started, gate(lost.taskId).started]);
    first.drop();

    const second = await controlPlane.nextSession();
    const hello = await second.welcome({
      reattachedLeases: [kept.lease as LeaseRef, done.lease as LeaseRef],
    });
    expect(hello.heldLeases.map((l) => l.leaseId).sort()).toEqual(
      [done, kept, lost].map((t) => t.lease?.leaseId).sort(),
    );
    const resent = await second.next(
      "result",
      (r) => r.lease?.leaseId === done.lease?.leaseId,
    );
    expect(resent.outcome).toBe(AttemptOutcome.SUCCESS);
    const lostResult = await second.next(
      "result",
      (r) => r.lease?.leaseId === lost.lease?.leaseId,
    );
    expect(lostResult.outcome).toBe(AttemptOutcome.LOST);
    expect(lostResult.output?.aborted).toBe("lost");
    gate(kept.taskId).release();
    const keptResult = await second.next(
      "result",
      (r) => r.lease?.leaseId === kept.lease?.leaseId,
    );
    expect(keptResult.outcome).toBe(AttemptOutcome.SUCCESS);
    const reconnect = captured.records.find(
      (r) => r.msg === "session stream lost; reconnecting",
    );
    expect(reconnect).toMatchObject({ level: 40, code: "Unavailable" });
    expect(reconnect?.next_delay_ms).toBeTypeOf("number");
  });

  it("delivers a held result to a restarted control plane", async () => {
    await start();
    const first = await controlPlane.nextSession();
    await first.welcome();
    const task = assignment("echo");
    first.send({ case: "assignment", value: task });
    await first.next("result");
    const port = Number(new URL(controlPlane.url).port);
    await controlPlane.stop();
    controlPlane = await new StandInControlPlane().start(port);

    const second = await controlPlane.nextSession();
    const hello = await second.welcome({
      reattachedLeases: [task.lease as LeaseRef],
    });
    expect(hello.heldLeases.map((l) => l.leaseId)).toEqual([
      task.lease?.leaseId,
    ]);
    const resent = await second.next("result");
    expect(resent.lease?.leaseId).toBe(task.lease?.leaseId);
    expect(resent.outcome).toBe(AttemptOutcome.SUCCESS);
  });

  it("renews leases by heartbeat and drops those found stale", async () => {
    await start();
    const session = await controlPlane.nextSession();
    await session.welcome({ heartbeatIntervalMs: 20 });
    await session.next("credit", (c) => c.freeSlots === 2);
    const task = assignment("wait");
    session.send({ case: "assignment", value: task });
    await gate(task.taskId).started;
    const heartbeat = await session.next("heartbeat", (h) =>
      h.leases.some((l) => l.leaseId === task.lease?.leaseId),
    );
    expect(heartbeat.leases[0]?.fencingToken).toBe(7n);
    session.send({
      case: "heartbeatAck",
      value: { staleLeases: [task.lease as LeaseRef] },
    });
    // The slot frees when the attempt has stopped; a result would have
    // come before that credit on the same stream.
    await session.next("credit", (c) => c.freeSlots === 2);
    expect(session.all("result")).toEqual([]);
    const later = await session.next("heartbeat", (h) => h.leases.length === 0);
    expect(later.leases).toEqual([]);
  });

  it("retries a refused hello with backoff, logging it as an error", async () => {
    controlPlane.refuseWith = new ConnectError(
      "labels.os: contradicts detected",
      Code.InvalidArgument,
    );
    const refused = controlPlane.nextRefusal();
    const twice = refused.then(() => controlPlane.nextRefusal());
    const agent = await start();
    await twice;
    controlPlane.refuseWith = undefined;
    const session = await controlPlane.nextSession();
    await session.welcome();
    await agent.ready;
    const logged = captured.records.find(
      (r) => r.msg === "control plane refused the hello; retrying",
    );
    expect(logged).toMatchObject({
      level: 50,
      code: "InvalidArgument",
      error: "labels.os: contradicts detected",
    });
  });

  it("retries within a quarter heartbeat while it holds leases, so they do not lapse", async () => {
    // The policy alone would wait up to 100 s between tries.
    await start({ reconnect: { initialDelayMs: 5, maxDelayMs: 100_000 } });
    const first = await controlPlane.nextSession();
    await first.welcome({ heartbeatIntervalMs: 40 });
    const task = assignment("wait");
    first.send({ case: "assignment", value: task });
    await gate(task.taskId).started;
    // A control plane that cannot take sessions for a while (its
    // database is out): eight refusals in a row.
    controlPlane.refuseWith = new ConnectError(
      "the database is unavailable",
      Code.Unavailable,
    );
    let refusals = controlPlane.nextRefusal();
    first.drop();
    for (let i = 1; i < 8; i++) {
      refusals = refusals.then(() => controlPlane.nextRefusal());
    }
    await refusals;
    const delays = captured.records
      .filter((r) => r.msg === "session stream lost; reconnecting")
      .map((r) => r.next_delay_ms as number);
    expect(delays.length).toBeGreaterThanOrEqual(8);
    // Four tries a heartbeat interval of 40 ms: at most 10 ms apart.
    expect(Math.max(...delays)).toBeLessThanOrEqual(10);
    controlPlane.refuseWith = undefined;
    const second = await controlPlane.nextSession();
    await second.welcome({ reattachedLeases: [task.lease as LeaseRef] });
    gate(task.taskId).release();
    const result = await second.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
  });

  it("keeps its id across restarts", async () => {
    const first = await start();
    const hello = await (await controlPlane.nextSession()).welcome();
    await first.close();
    const second = await start();
    expect(second.id).toBe(first.id);
    const again = await (await controlPlane.nextSession()).hello();
    expect(again.agentId).toBe(hello.agentId);
  });

  it("drains: no new work, running attempts finish, then it closes", async () => {
    const agent = await start();
    const session = await controlPlane.nextSession();
    await session.welcome();
    const task = assignment("wait");
    session.send({ case: "assignment", value: task });
    await gate(task.taskId).started;
    const drained = agent.drain(60_000);
    await session.next("credit", (c) => c.freeSlots === 0);
    const late = assignment("echo");
    session.send({ case: "assignment", value: late });
    expect((await session.next("reject")).reason).toBe("agent is draining");
    gate(task.taskId).release();
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.SUCCESS);
    session.send({
      case: "resultAck",
      value: { lease: task.lease, accepted: true },
    });
    await drained;
    await agent.closed;
    await session.ended;
  });

  it("obeys a Drain: kills what outlives the grace period", async () => {
    const agent = await start();
    const session = await controlPlane.nextSession();
    await session.welcome();
    const task = assignment("wait");
    session.send({ case: "assignment", value: task });
    await gate(task.taskId).started;
    session.send({ case: "drain", value: { gracePeriodMs: 30 } });
    const result = await session.next("result");
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.retryable).toBe(true);
    expect(result.output?.aborted).toBe("killed");
    session.send({
      case: "resultAck",
      value: { lease: task.lease, accepted: true },
    });
    await agent.closed;
    await session.ended;
  });
});
