import { create } from "@bufbuild/protobuf";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { SessionRequestSchema } from "../../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome, RunState } from "../../gen/deerflow/v1/run_pb.js";
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

const CHAIN = {
  name: "hand-off",
  tasks: [
    { id: "first", type: "shell", command: "true" },
    { id: "second", type: "shell", command: "true", depends_on: ["first"] },
  ],
};

/** The transaction ids that wrote a run's events of `taskId` in `state`. */
async function writersOf(
  url: string,
  runId: string,
  taskId: string,
  state: string,
): Promise<string[]> {
  // Event batches are never updated: their xmin is the writer's.
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`
      SELECT b.xmin::text AS xid FROM run_event_batches b
      CROSS JOIN LATERAL unnest(b.task_ids, b.states) AS e(task_id, state)
      WHERE b.run_id = ${runId} AND e.task_id = ${taskId}
        AND e.state = ${state}`;
    return rows.map((r) => String(r.xid));
  } finally {
    await sql.end();
  }
}

describe.each(testBackends())("hand-offs, on $name", (backend) => {
  let cp: TestControlPlane | undefined;
  let agent: ScriptedAgent | undefined;
  afterEach(async () => {
    await agent?.close();
    await cp?.close();
  });

  it("claims the task a result queues for its agent in the result's transaction", async () => {
    cp = await startTestControlPlane(backend);
    agent = await openScriptedAgent(cp.url, {
      name: "chain",
      slots: 1,
      acceptsBatches: true,
    });
    agent.send({ case: "credit", value: { freeSlots: 1 } });
    const runId = await startInline(cp.clients, CHAIN);
    const first = await agent.next(
      (r) => assignmentsIn(r).length > 0,
      "the first assignment",
    );
    const lease = assignmentsIn(first)[0]?.lease;
    expect(assignmentsIn(first)[0]?.taskId).toBe("first");
    // As an agent sends them: its credit, saying the result freed the
    // slot, comes a moment later; the claim does not wait for it.
    agent.send({
      case: "batch",
      value: {
        messages: [
          { message: { case: "acknowledge" as const, value: { lease } } },
          {
            message: {
              case: "result" as const,
              value: { lease, outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
            },
          },
        ].map((m) => create(SessionRequestSchema, m)),
      },
    });
    const second = await agent.next(
      (r) => assignmentsIn(r).some((a) => a.taskId === "second"),
      "the second assignment",
    );
    const next = assignmentsIn(second).find((a) => a.taskId === "second");
    agent.send({ case: "acknowledge", value: { lease: next?.lease } });
    agent.send({
      case: "result",
      value: { lease: next?.lease, outcome: AttemptOutcome.SUCCESS },
    });
    expect((await waitForRun(cp.clients, runId)).state).toBe(RunState.SUCCESS);

    const url = cp.database.url;
    if (url === undefined) return; // PGlite: one connection, the server's.
    // One transaction recorded the first task's success and assigned the
    // second.
    const ended = await writersOf(url, runId, "first", "SUCCESS");
    expect(ended).toHaveLength(1);
    expect(await writersOf(url, runId, "second", "ASSIGNED")).toEqual(ended);
  });

  it("claims a new run's first task in the run's own transaction", async () => {
    cp = await startTestControlPlane(backend);
    agent = await openScriptedAgent(cp.url, { name: "eager", slots: 1 });
    agent.send({ case: "credit", value: { freeSlots: 1 } });
    // The agent's credit is in once a run's task reaches it.
    const warmUp = await startInline(cp.clients, {
      name: "warm-up",
      tasks: [{ id: "warm", type: "shell", command: "true" }],
    });
    const warm = assignmentsIn(
      await agent.next((r) => assignmentsIn(r).length > 0, "the warm-up"),
    )[0];
    agent.send({ case: "acknowledge", value: { lease: warm?.lease } });
    agent.send({
      case: "result",
      value: { lease: warm?.lease, outcome: AttemptOutcome.SUCCESS },
    });
    agent.send({
      case: "credit",
      value: { freeSlots: 1, assignmentsReceived: 1n },
    });
    expect((await waitForRun(cp.clients, warmUp)).state).toBe(RunState.SUCCESS);
    // A session's messages are handled in order: once the heartbeat
    // behind it is answered, the credit is in (the run's end can be seen
    // before it is, on a loaded machine).
    agent.send({ case: "heartbeat", value: { leases: [] } });
    await agent.next(
      (r) => r.message.case === "heartbeatAck",
      "the heartbeat's answer",
    );

    const runId = await startInline(cp.clients, {
      name: "eager",
      tasks: [{ id: "only", type: "shell", command: "true" }],
    });
    await agent.next(
      (r) => assignmentsIn(r).some((a) => a.runId === runId),
      "the new run's assignment",
    );
    const url = cp.database.url;
    if (url === undefined) return; // PGlite: one connection, the server's.
    const queued = await writersOf(url, runId, "only", "QUEUED");
    expect(queued).toHaveLength(1);
    expect(await writersOf(url, runId, "only", "ASSIGNED")).toEqual(queued);
  });
});
