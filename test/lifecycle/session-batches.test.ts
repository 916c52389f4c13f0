import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionRequestSchema } from "../../gen/deerflow/v1/agent_pb.js";
import {
  AttemptOutcome,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import { startInline, waitForRun } from "../support/runs.js";
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

// Session framing does not depend on the backend.
const [backend] = testBackends();

function tasks(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    type: "shell",
    command: "true",
  }));
}

describe.runIf(backend)(`session batches, on ${backend?.name}`, () => {
  let cp: TestControlPlane;
  const agents: ScriptedAgent[] = [];
  beforeEach(async () => {
    if (backend) cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.close();
    await cp?.close();
  });

  async function agent(name: string, slots: number, acceptsBatches = false) {
    const opened = await openScriptedAgent(cp.url, {
      name,
      slots,
      acceptsBatches,
    });
    agents.push(opened);
    return opened;
  }

  /** Starts a one-task run for `one` and waits for its lease. */
  async function leaseOf(one: ScriptedAgent, name: string) {
    one.send({ case: "credit", value: { freeSlots: 1 } });
    const runId = await startInline(cp.clients, { name, tasks: tasks(1) });
    const response = await one.next(
      (r) => assignmentsIn(r).length > 0,
      "the assignment",
    );
    return { runId, lease: assignmentsIn(response)[0]?.lease };
  }

  /** Sends `messages` as one batch. */
  function sendBatch(
    one: ScriptedAgent,
    messages: MessageInitShape<typeof SessionRequestSchema>[],
  ) {
    one.send({
      case: "batch",
      value: { messages: messages.map((m) => create(SessionRequestSchema, m)) },
    });
  }

  it("handles an agent's batch in order: an acknowledgement, its result, a credit", async () => {
    const one = await agent("batcher", 1);
    const welcome = one.received()[0]?.message;
    expect(welcome?.case === "welcome" && welcome.value.acceptsBatches).toBe(
      true,
    );
    const { runId, lease } = await leaseOf(one, "batched");
    sendBatch(one, [
      { message: { case: "acknowledge", value: { lease } } },
      {
        message: {
          case: "result",
          value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
        },
      },
      { message: { case: "credit", value: { freeSlots: 1 } } },
    ]);
    const ack = await one.next(
      (r) => r.message.case === "resultAck",
      "the result's acknowledgement",
    );
    expect(ack.message.case === "resultAck" && ack.message.value.accepted).toBe(
      true,
    );
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.attempts[0]?.startedAt).toBeDefined();
  });

  it("sends an agent that reads batches what queued up as one message", async () => {
    const reader = await agent("reader", 5, true);
    const plain = await agent("plain", 5, false);
    // The welcome always goes alone.
    for (const a of [reader, plain]) {
      expect(a.received()[0]?.message.case).toBe("welcome");
    }
    reader.send({ case: "credit", value: { freeSlots: 5 } });
    await startInline(cp.clients, { name: "to-reader", tasks: tasks(5) });
    const batch = await reader.next(
      (r) => assignmentsIn(r).length === 5,
      "five assignments in one batch",
    );
    expect(batch.message.case).toBe("batch");
    plain.send({ case: "credit", value: { freeSlots: 5 } });
    await startInline(cp.clients, { name: "to-plain", tasks: tasks(5) });
    await plain.next(
      () => plain.received().flatMap(assignmentsIn).length === 5,
      "five assignments",
    );
    expect(plain.received().some((r) => r.message.case === "batch")).toBe(
      false,
    );
  });

  it("refuses a batch that holds a batch, naming the message", async () => {
    const nested = await agent("nested", 1);
    nested.send({
      case: "batch",
      value: {
        messages: [
          create(SessionRequestSchema, {
            message: { case: "credit", value: { freeSlots: 1 } },
          }),
          create(SessionRequestSchema, {
            message: { case: "batch", value: { messages: [] } },
          }),
        ],
      },
    });
    await expect(
      nested.next(() => false, "the session's end", 10_000),
    ).rejects.toThrow(
      "message.batch.messages[1]: a batch may not hold a batch",
    );
  });

  it("lets nothing of a refused batch take effect", async () => {
    const one = await agent("half", 1);
    const { runId, lease } = await leaseOf(one, "refused-batch");
    sendBatch(one, [
      { message: { case: "acknowledge", value: { lease } } },
      {
        message: {
          case: "result",
          value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
        },
      },
      { message: { case: undefined } },
    ]);
    await expect(
      one.next(() => false, "the session's end", 10_000),
    ).rejects.toThrow("message.batch.messages[2]: an empty message");
    const { run } = await cp.clients.runs.getRun({ runId });
    expect(run?.tasks[0]?.state).toBe(TaskState.ASSIGNED);
  });

  it("refuses a lease id that is no UUID, in any message, naming the field", async () => {
    const one = await agent("bad-id", 1);
    one.send({
      case: "heartbeat",
      value: { leases: [{ leaseId: "abc", fencingToken: 1n }] },
    });
    await expect(
      one.next(() => false, "the session's end", 10_000),
    ).rejects.toThrow(
      'message.heartbeat.leases[0].lease_id: "abc" is not a valid id',
    );
  });

  it("refuses a fencing token no lease has, and takes nothing of its batch", async () => {
    const one = await agent("bad-token", 1);
    const { runId, lease } = await leaseOf(one, "bad-token");
    const forged = {
      leaseId: lease?.leaseId ?? "",
      fencingToken: 2n ** 63n - 1n,
    };
    sendBatch(one, [
      { message: { case: "acknowledge", value: { lease } } },
      {
        message: {
          case: "result",
          value: { lease: forged, outcome: AttemptOutcome.SUCCESS },
        },
      },
    ]);
    await expect(
      one.next(() => false, "the session's end", 10_000),
    ).rejects.toThrow(
      "message.batch.messages[1].result.lease.fencing_token: must be from 0 to 9007199254740991, not 9223372036854775807",
    );
    const { run } = await cp.clients.runs.getRun({ runId });
    expect(run?.tasks[0]?.state).toBe(TaskState.ASSIGNED);
  });

  it("refuses a result of no known outcome, saying which outcomes there are", async () => {
    const one = await agent("odd-outcome", 1);
    const { lease } = await leaseOf(one, "odd-outcome");
    one.send({
      case: "result",
      value: { lease, outcome: 99 as AttemptOutcome },
    });
    const answer = await one.next(
      (r) => r.message.case === "resultAck",
      "the result's answer",
    );
    expect(answer.message.value).toMatchObject({
      accepted: false,
      reason:
        "result.outcome: must be SUCCESS, FAILED, TIMED_OUT, LOST or KILLED, not 99",
    });
  });

  it("records a lease's results in the order sent: a success after its failure is refused", async () => {
    const one = await agent("ordered", 1);
    const { runId, lease } = await leaseOf(one, "ordered");
    sendBatch(one, [
      { message: { case: "acknowledge", value: { lease } } },
      {
        message: {
          case: "result",
          value: {
            lease,
            outcome: AttemptOutcome.FAILED,
            exitCode: 1,
            error: "boom",
          },
        },
      },
      {
        message: {
          case: "result",
          value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
        },
      },
    ]);
    const refused = await one.next(
      (r) => r.message.case === "resultAck" && !r.message.value.accepted,
      "the second result's refusal",
    );
    expect(
      refused.message.case === "resultAck" && refused.message.value.reason,
    ).toBe("its attempt already ended FAILED");
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.FAILED);
    expect(run.tasks[0]?.error).toContain("boom");
  });

  it("handles a reject after its lease's result in order: the result stands", async () => {
    const one = await agent("late-reject", 1);
    const { runId, lease } = await leaseOf(one, "late-reject");
    sendBatch(one, [
      { message: { case: "acknowledge", value: { lease } } },
      {
        message: {
          case: "result",
          value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
        },
      },
      { message: { case: "reject", value: { lease, reason: "too late" } } },
    ]);
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.attempts).toHaveLength(1);
  });

  it("keeps an agent's reason for rejecting an assignment, and queues the task again", async () => {
    const one = await agent("rejecting", 1);
    const { runId, lease } = await leaseOf(one, "rejecting");
    const reason = `assignment.context_json:\u0000${"x".repeat(2_000)}`;
    one.send({ case: "reject", value: { lease, reason } });
    one.send({
      case: "credit",
      value: { freeSlots: 1, assignmentsReceived: 1n },
    });
    const again = await one.next(
      (r) => assignmentsIn(r).some((a) => a.lease?.leaseId !== lease?.leaseId),
      "the task's next assignment",
    );
    const next = assignmentsIn(again)[0]?.lease;
    one.send({ case: "acknowledge", value: { lease: next } });
    one.send({
      case: "result",
      value: { lease: next, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    const rejected = run.tasks[0]?.attempts[0];
    expect(rejected?.error).toBe(
      // No NUL (PostgreSQL stores none), and at most 1,000 characters.
      `the agent rejected the assignment: assignment.context_json:\uFFFD${"x".repeat(975)}`,
    );
  });
});
