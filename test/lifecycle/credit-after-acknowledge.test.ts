import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SessionResponse } from "../../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import { pollUntil } from "../support/poll-until.js";
import { startInline } from "../support/runs.js";
import {
  openScriptedAgent,
  type ScriptedAgent,
} from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForTaskState } from "../support/watch-run.js";

const isAssignment = (r: SessionResponse) => r.message.case === "assignment";

// Session bookkeeping does not depend on the backend.
const [backend] = testBackends();

/**
 * Found by the restart test: agents rejected assignments with "no free
 * slot". An agent acknowledges an assignment and then sends its new
 * credit; between the two the control plane counted the slot free again
 * and could hand the agent a task it had no room for.
 */
describe.runIf(backend)(`agent credit, on ${backend?.name}`, () => {
  let cp: TestControlPlane;
  const agents: ScriptedAgent[] = [];
  beforeEach(async () => {
    if (backend) cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.close();
    await cp?.close();
  });

  it("an acknowledged assignment keeps its slot taken until the agent's next credit", async () => {
    const busy = await openScriptedAgent(cp.url, { name: "busy", slots: 1 });
    agents.push(busy);
    busy.send({ case: "credit", value: { freeSlots: 1 } });
    const runId = await startInline(cp.clients, {
      name: "two-tasks",
      tasks: ["a", "b"].map((id) => ({ id, type: "shell", command: "true" })),
    });
    const first = await busy.next(isAssignment, "the first assignment");
    if (first.message.case !== "assignment") throw new Error("unreachable");
    const taskId = first.message.value.taskId;
    // Acknowledged; the credit that follows it is still on its way.
    busy.send({
      case: "acknowledge",
      value: { lease: first.message.value.lease },
    });
    await waitForTaskState(cp.clients, runId, taskId, TaskState.RUNNING, 1);

    const idle = await openScriptedAgent(cp.url, { name: "idle", slots: 1 });
    agents.push(idle);
    idle.send({ case: "credit", value: { freeSlots: 1 } });
    const assignments = (agent: ScriptedAgent) =>
      agent.received().filter(isAssignment).length;
    const winner = await pollUntil(
      () =>
        assignments(busy) > 1
          ? "busy"
          : assignments(idle) > 0
            ? "idle"
            : undefined,
      "the second task being assigned",
    );
    expect(winner, "the agent with no free slot got the second task").toBe(
      "idle",
    );
  });

  it("a draining agent's last result frees no slot for a hand-off: the task it queues goes elsewhere", async () => {
    const leaving = await openScriptedAgent(cp.url, {
      name: "leaving",
      slots: 1,
    });
    agents.push(leaving);
    leaving.send({ case: "credit", value: { freeSlots: 1 } });
    const runId = await startInline(cp.clients, {
      name: "drained-hand-off",
      tasks: [
        { id: "a", type: "shell", command: "true" },
        { id: "b", type: "shell", command: "true", depends_on: ["a"] },
      ],
    });
    const first = await leaving.next(isAssignment, "the assignment");
    if (first.message.case !== "assignment") throw new Error("unreachable");
    const lease = first.message.value.lease;
    leaving.send({ case: "acknowledge", value: { lease } });
    await waitForTaskState(cp.clients, runId, "a", TaskState.RUNNING, 1);
    // SIGTERM: the agent says it drains, then reports its last attempt,
    // whose success queues b in the same transaction.
    leaving.send({
      case: "credit",
      value: { freeSlots: 0, assignmentsReceived: 1n, draining: true },
    });
    leaving.send({
      case: "result",
      value: { lease, outcome: AttemptOutcome.SUCCESS },
    });
    await leaving.next(
      (r) => r.message.case === "resultAck",
      "the result's acknowledgement",
    );
    const stays = await openScriptedAgent(cp.url, { name: "stays", slots: 1 });
    agents.push(stays);
    stays.send({ case: "credit", value: { freeSlots: 1 } });
    const second = await stays.next(isAssignment, "b's assignment");
    expect(
      second.message.case === "assignment" && second.message.value.taskId,
    ).toBe("b");
    expect(leaving.received().filter(isAssignment)).toHaveLength(1);
  });
});
