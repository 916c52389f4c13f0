import { create } from "@bufbuild/protobuf";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import {
  SessionRequestSchema,
  type SessionResponse,
} from "../../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome, RunState } from "../../gen/deerflow/v1/run_pb.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  openScriptedAgent,
  type ScriptedAgent,
} from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const assignmentsIn = (r: SessionResponse) =>
  r.message.case === "assignment"
    ? [r.message.value]
    : r.message.case === "batch"
      ? r.message.value.messages.flatMap((m) =>
          m.message.case === "assignment" ? [m.message.value] : [],
        )
      : [];

const CHAIN = {
  name: "hand-off",
  tasks: [
    { id: "first", type: "shell", command: "true" },
    { id: "second", type: "shell", command: "true", depends_on: ["first"] },
  ],
};

describe.each(testBackends())("a result's hand-off, on $name", (backend) => {
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
    // As an agent sends them: the credit that says the result freed its
    // slot in the same batch.
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
          {
            message: {
              case: "credit" as const,
              value: { freeSlots: 1, assignmentsReceived: 1n },
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
    // second (events are never updated: their xmin is the writer's).
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [ended] = await sql`
        SELECT xmin::text AS xid FROM run_events
        WHERE run_id = ${runId} AND task_id = 'first' AND state = 'SUCCESS'`;
      const [leased] = await sql`
        SELECT xmin::text AS xid FROM run_events
        WHERE run_id = ${runId} AND task_id = 'second'
          AND state = 'ASSIGNED'`;
      expect(leased?.xid).toBeDefined();
      expect(leased?.xid).toBe(ended?.xid);
    } finally {
      await sql.end();
    }
  });
});
