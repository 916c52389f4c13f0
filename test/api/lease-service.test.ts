import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AgentState,
  type HelloSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import { LeaseService, LeaseState } from "../../gen/deerflow/v1/lease_pb.js";
import {
  AttemptOutcome,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import { startInline, waitForRun } from "../support/runs.js";
import { openScriptedAgent } from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/** A polling worker's self-description, as AcquireLease takes it. */
function worker(fields: MessageInitShape<typeof HelloSchema> = {}) {
  return {
    agentId: "poller-1",
    name: "poller",
    version: "test",
    slots: 2,
    taskTypes: [{ type: "polled", pluginVersion: "1" }],
    acceptsJsonValues: true,
    ...fields,
  };
}

const ONE_TASK = {
  name: "polled",
  tasks: [
    {
      id: "only",
      type: "polled",
      config: { say: "hi ${run.name}" },
      retries: 1,
    },
  ],
};

const utf8 = new TextDecoder();

describe.each(testBackends())("LeaseService, on $name", (backend) => {
  let cp: TestControlPlane;
  let leases: ReturnType<typeof createClient<typeof LeaseService>>;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
    leases = createClient(
      LeaseService,
      createGrpcTransport({ baseUrl: cp.url }),
    );
    // Known by a first call, as an agent by its hello: runs of its task
    // type validate from then on.
    await leases.acquireLease({ worker: worker(), waitMs: 0 });
  });
  afterEach(async () => {
    await cp.close();
  });

  // A call answers as soon as a task fits: the long wait only bounds a
  // loaded machine (a retry's backoff, then its promotion, come first).
  const acquire = (
    fields: { worker?: ReturnType<typeof worker>; waitMs?: number } = {},
  ) =>
    leases.acquireLease({
      worker: fields.worker ?? worker(),
      waitMs: fields.waitMs ?? 60_000,
    });

  it("hands a polling worker a task; it renews, logs and completes it", async () => {
    const runId = await startInline(cp.clients, ONE_TASK);
    const { assignment } = await acquire();
    expect(assignment?.runId).toBe(runId);
    expect(assignment?.taskId).toBe("only");
    expect(JSON.parse(utf8.decode(assignment?.configJson))).toEqual({
      say: "hi ${run.name}",
    });
    expect(JSON.parse(utf8.decode(assignment?.contextJson)).run.name).toBe(
      "polled",
    );
    const lease = assignment?.lease;
    // Handed over, not yet known to be received: the worker's first call
    // on the lease acknowledges it.
    const handed = await cp.clients.runs.getRun({ runId });
    expect(handed.run?.tasks[0]?.state).toBe(TaskState.ASSIGNED);
    const { expiresAt } = await leases.renewLease({ lease });
    const running = await cp.clients.runs.getRun({ runId });
    expect(running.run?.tasks[0]?.state).toBe(TaskState.RUNNING);
    expect(expiresAt && timestampDate(expiresAt).getTime()).toBeGreaterThan(
      Date.now(),
    );
    await leases.appendLogs({
      lease,
      lines: [{ sequence: 1n, stream: "stdout", message: "working" }],
    });
    await leases.completeLease({
      result: { lease, exitCode: 0, output: { answer: 42 } },
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.output).toEqual({ answer: 42 });
    const logs = await cp.clients.runs.getTaskLogs({ runId, taskId: "only" });
    expect(logs.lines.map((l) => l.message)).toEqual(["working"]);
    // A retried call (its answer lost on the way) is answered alike, and
    // recorded once.
    await leases.completeLease({ result: { lease, exitCode: 0 } });
    const again = await cp.clients.runs.getRun({ runId });
    expect(again.run?.tasks[0]?.attempts).toHaveLength(1);
    // Another outcome for the attempt that ended is refused, not dropped.
    const late = await leases
      .failLease({
        result: { lease, outcome: AttemptOutcome.FAILED, error: "late" },
      })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(late?.code).toBe(Code.FailedPrecondition);
    expect(late?.rawMessage).toBe(
      `result.lease: ${lease?.leaseId} was not recorded: its attempt already ended SUCCESS`,
    );
    const after = await cp.clients.runs.getRun({ runId });
    expect(after.run?.tasks[0]?.state).toBe(TaskState.SUCCESS);
    expect(after.run?.tasks[0]?.attempts[0]?.error).toBe("");

    const { agents } = await cp.clients.agents.listAgents({});
    const poller = agents.find((a) => a.id === "poller-1");
    expect(poller?.state).toBe(AgentState.CONNECTED);
    expect(poller?.freeSlots).toBe(2);
  });

  it("waits for work: a call made before the run starts gets its task", async () => {
    const waiting = acquire();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const runId = await startInline(cp.clients, ONE_TASK);
    const { assignment } = await waiting;
    expect(assignment?.runId).toBe(runId);
  });

  it("answers with no assignment when nothing fits within wait_ms", async () => {
    await startInline(cp.clients, ONE_TASK);
    const other = await leases.acquireLease({
      worker: worker({
        agentId: "other",
        taskTypes: [{ type: "unrelated", pluginVersion: "1" }],
      }),
      waitMs: 200,
    });
    expect(other.assignment).toBeUndefined();
    // A worker with every slot taken gets nothing either.
    const full = worker({ agentId: "one-slot", slots: 1 });
    const first = await leases.acquireLease({ worker: full, waitMs: 5_000 });
    expect(first.assignment).toBeDefined();
    await startInline(cp.clients, ONE_TASK);
    const second = await leases.acquireLease({ worker: full, waitMs: 200 });
    expect(second.assignment).toBeUndefined();
  });

  it("retries a failed attempt by its policy, and sends Structs to a worker that asks none", async () => {
    const runId = await startInline(cp.clients, ONE_TASK);
    const first = await acquire();
    await leases.failLease({
      result: {
        lease: first.assignment?.lease,
        outcome: AttemptOutcome.FAILED,
        exitCode: 3,
        error: "disk full",
        retryable: true,
      },
    });
    const second = await acquire({
      worker: worker({ acceptsJsonValues: false }),
    });
    expect(second.assignment?.attempt).toBe(2);
    expect(second.assignment?.config).toEqual({ say: "hi ${run.name}" });
    await expect(
      leases.completeLease({
        result: {
          lease: second.assignment?.lease,
          outcome: AttemptOutcome.FAILED,
        },
      }),
    ).rejects.toThrow(/result\.outcome: CompleteLease records a SUCCESS/);
    await leases.completeLease({ result: { lease: second.assignment?.lease } });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.attempts.map((a) => a.error)).toEqual([
      "disk full",
      "",
    ]);
  });

  it("lists leases and revokes one: its attempt is lost, its holder refused", async () => {
    const runId = await startInline(cp.clients, ONE_TASK);
    const { assignment } = await acquire();
    const lease = assignment?.lease;
    await leases.renewLease({ lease });
    const listed = await leases.listLeases({ runId });
    expect(listed.leases.map((l) => [l.id, l.state, l.agentId])).toEqual([
      [lease?.leaseId, LeaseState.ACTIVE, "poller-1"],
    ]);
    const { lease: revoked } = await leases.revokeLease({
      leaseId: lease?.leaseId,
      reason: "host is being drained",
    });
    expect(revoked?.state).toBe(LeaseState.REVOKED);
    await expect(leases.renewLease({ lease })).rejects.toMatchObject({
      code: Code.FailedPrecondition,
    });
    await expect(
      leases.revokeLease({ leaseId: lease?.leaseId }),
    ).rejects.toThrow(/is not held \(it is REVOKED\)/);
    const run = await cp.clients.runs.getRun({ runId });
    const attempt = run.run?.tasks[0]?.attempts[0];
    expect(attempt?.error).toBe("the lease was revoked: host is being drained");
    // Retried by its policy (queued once its short backoff passed), but
    // not handed out while the revoked attempt may still run: its holder
    // has not said it stopped, and the lease has not run out.
    expect([TaskState.RETRY, TaskState.QUEUED]).toContain(
      run.run?.tasks[0]?.state,
    );
    const meanwhile = await acquire({ waitMs: 500 });
    expect(meanwhile.assignment).toBeUndefined();
    // The holder's result is refused, and says its attempt has ended:
    // the task goes out again.
    await expect(
      leases.completeLease({ result: { lease } }),
    ).rejects.toMatchObject({ code: Code.FailedPrecondition });
    const retried = await acquire();
    expect(retried.assignment?.attempt).toBe(2);
    expect(
      (await leases.listLeases({ agentId: "nobody" })).leases,
    ).toHaveLength(0);
  });

  it("claims before it answers, even with wait_ms 0; a caller that went away leaves the task queued", async () => {
    const gone = new AbortController();
    const abandoned = leases.acquireLease(
      { worker: worker(), waitMs: 60_000 },
      { signal: gone.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    gone.abort();
    await expect(abandoned).rejects.toThrow();
    const runId = await startInline(cp.clients, ONE_TASK);
    const { assignment } = await acquire({ waitMs: 0 });
    expect(assignment?.runId).toBe(runId);
    // The first attempt: nothing was spent on the call that went away.
    expect(assignment?.attempt).toBe(1);
  });

  it("never hands a worker more leases than its slots, whatever its calls at once", async () => {
    const calls = Array.from({ length: 6 }, () =>
      leases.acquireLease({ worker: worker(), waitMs: 3_000 }),
    );
    for (let i = 0; i < 3; i++) await startInline(cp.clients, ONE_TASK);
    const answers = await Promise.all(calls);
    expect(answers.filter((a) => a.assignment !== undefined)).toHaveLength(2);
    const held = await leases.listLeases({ agentId: "poller-1" });
    expect(
      held.leases.filter((l) => l.state === LeaseState.GRANTED),
    ).toHaveLength(2);
  });

  it("gives a drained polling worker no more work", async () => {
    await cp.clients.agents.drainAgent({
      agent: "poller-1",
      gracePeriodMs: 60_000,
    });
    await startInline(cp.clients, ONE_TASK);
    const { assignment } = await acquire({ waitMs: 300 });
    expect(assignment).toBeUndefined();
    const { agent } = await cp.clients.agents.getAgent({ agent: "poller-1" });
    expect(agent?.state).toBe(AgentState.DRAINING);
    // It has no session whose end would end the drain: uncordon does.
    await cp.clients.agents.uncordonAgent({ agent: "poller-1" });
    const { assignment: back } = await acquire();
    expect(back).toBeDefined();
  });

  it("gives back at its ack deadline a task whose worker never called back, without using up an attempt", async () => {
    await cp.close();
    cp = await startTestControlPlane(backend, { ackDeadlineMs: 500 });
    leases = createClient(
      LeaseService,
      createGrpcTransport({ baseUrl: cp.url }),
    );
    await leases.acquireLease({ worker: worker(), waitMs: 0 });
    const runId = await startInline(cp.clients, {
      name: "lost-answer",
      tasks: [{ id: "only", type: "polled", retries: 0 }],
    });
    // An answer lost on the way: the worker never hears of this lease.
    const lost = await acquire();
    expect(lost.assignment?.attempt).toBe(1);
    const again = await acquire();
    expect(again.assignment?.attempt).toBe(2);
    await leases.completeLease({ result: { lease: again.assignment?.lease } });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.attempts.map((a) => a.outcome)).toEqual([
      AttemptOutcome.LOST,
      AttemptOutcome.SUCCESS,
    ]);
  });

  it("refuses the id of an agent connected with a stream", async () => {
    const streaming = await openScriptedAgent(cp.url, {
      name: "streaming",
      taskTypes: ["polled"],
    });
    try {
      await streaming.next((r) => r.message.case === "welcome", "the welcome");
      await expect(
        acquire({ worker: worker({ agentId: streaming.agentId }), waitMs: 0 }),
      ).rejects.toThrow(
        /^\[failed_precondition\] worker\.agent_id: agent .* is connected with a stream/,
      );
    } finally {
      await streaming.close();
    }
  });

  it("refuses bad requests, naming the field", async () => {
    const refused = async (
      call: Promise<unknown>,
      code: Code,
      text: RegExp,
    ) => {
      const error = await call.then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(code);
      expect(error?.rawMessage).toMatch(text);
    };
    await refused(
      leases.acquireLease({ waitMs: 10 }),
      Code.InvalidArgument,
      /^worker: is required/,
    );
    await refused(
      acquire({ worker: worker({ agentId: "" }) }),
      Code.InvalidArgument,
      /^worker\.agent_id: is required/,
    );
    await refused(
      acquire({ waitMs: 60_001 }),
      Code.InvalidArgument,
      /^wait_ms: must be 0 to 60000, got 60001/,
    );
    await refused(
      acquire({ worker: worker({ slots: 0 }) }),
      Code.InvalidArgument,
      /hello\.slots: must be 1\.\./,
    );
    await refused(
      acquire({
        worker: worker({
          heldLeases: [{ leaseId: crypto.randomUUID(), fencingToken: 1n }],
        }),
      }),
      Code.InvalidArgument,
      /^worker\.held_leases: must be empty/,
    );
    await refused(
      leases.renewLease({}),
      Code.InvalidArgument,
      /^lease: is required/,
    );
    await refused(
      leases.renewLease({ lease: { leaseId: "nope", fencingToken: 1n } }),
      Code.InvalidArgument,
      /^lease\.lease_id: "nope" is not a valid id/,
    );
    await refused(
      leases.renewLease({
        lease: { leaseId: crypto.randomUUID(), fencingToken: 1n },
      }),
      Code.NotFound,
      /^lease: lease .* not found/,
    );
    await refused(
      leases.failLease({}),
      Code.InvalidArgument,
      /^result: is required/,
    );
    // Lines a resend check would drop: no sequence, or one used twice.
    const lease = { leaseId: crypto.randomUUID(), fencingToken: 1n };
    await refused(
      leases.appendLogs({ lease, lines: [{ message: "one" }] }),
      Code.InvalidArgument,
      /^lines\[0\]\.sequence: is required: number each attempt's lines from 1/,
    );
    await refused(
      leases.appendLogs({
        lease,
        lines: [
          { sequence: 1n, message: "one" },
          { sequence: 2n, message: "two" },
          { sequence: 1n, message: "three" },
        ],
      }),
      Code.InvalidArgument,
      /^lines\[2\]\.sequence: 1 repeats lines\[0\]'s/,
    );
    for (const sequence of [-5n, 2n ** 60n]) {
      await refused(
        leases.appendLogs({ lease, lines: [{ sequence, message: "x" }] }),
        Code.InvalidArgument,
        new RegExp(
          `^lines\\[0\\]\\.sequence: must be from 1 to 9007199254740991, not ${sequence}`,
        ),
      );
    }
    await refused(
      leases.listLeases({ runId: "x" }),
      Code.InvalidArgument,
      /^run_id: "x" is not a valid id/,
    );
    await refused(
      leases.revokeLease({ leaseId: crypto.randomUUID() }),
      Code.NotFound,
      /not found/,
    );
  });
});
