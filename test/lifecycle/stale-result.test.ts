import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Assignment } from "../../gen/deerflow/v1/agent_pb.js";
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
import { checkRunHistory } from "../support/run-history.js";
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
import { waitForRunEnd, waitForTaskState } from "../support/watch-run.js";

const LEASE_TTL_MS = 2000;

const definition = {
  name: "stale-result",
  tasks: [
    {
      id: "t",
      type: "shell",
      command: 'echo "attempt=${task.attempt}" >> "$DEERFLOW_OUTPUT"',
      retry: { max_attempts: 3, initial_delay: 0 },
    },
  ],
};

describe.each(testBackends())(
  "a result from a stale lease on $name",
  (backend) => {
    let cp: TestControlPlane;
    let logs: CapturedLogger;
    let ghost: ScriptedAgent | undefined;
    beforeEach(async () => {
      logs = captureLogger();
      cp = await startTestControlPlane(backend, {
        leaseTtlMs: LEASE_TTL_MS,
        logger: logs.logger,
      });
    });
    afterEach(async () => {
      await ghost?.close();
      ghost = undefined;
      await stopAllAgents();
      await cp.close();
    });

    /** Sends a forged SUCCESS for `assignment` and returns the ack. */
    async function lateResult(agent: ScriptedAgent, assignment: Assignment) {
      const leaseId = assignment.lease?.leaseId;
      agent.send({
        case: "result",
        value: {
          lease: assignment.lease,
          outcome: AttemptOutcome.SUCCESS,
          exitCode: 0,
          output: { attempt: 1, forged: true },
        },
      });
      const ack = await agent.next(
        (r) =>
          r.message.case === "resultAck" &&
          r.message.value.lease?.leaseId === leaseId &&
          // Each ack is found once: skip those already looked at.
          !seenAcks.has(r),
        "the result's acknowledgement",
      );
      seenAcks.add(ack);
      return ack.message.case === "resultAck" ? ack.message.value : undefined;
    }
    const seenAcks = new Set<unknown>();

    it("is refused before and after the newer attempt, which alone stands", async () => {
      ghost = await openScriptedAgent(cp.url, { name: "ghost" });
      ghost.send({ case: "credit", value: { freeSlots: 1 } });
      const runId = await startInline(cp.clients, definition);
      const message = await ghost.next(
        (r) => r.message.case === "assignment",
        "an assignment for the ghost",
      );
      if (message.message.case !== "assignment") throw new Error("unreachable");
      const assignment = message.message.value;
      ghost.send({ case: "acknowledge", value: { lease: assignment.lease } });
      // Its one slot is taken: the retry must go elsewhere.
      ghost.send({ case: "credit", value: { freeSlots: 0 } });
      await waitForTaskState(cp.clients, runId, "t", TaskState.RUNNING, 1);
      // The ghost sends no heartbeat: its lease lapses and the task waits
      // for another agent.
      await waitForTaskState(cp.clients, runId, "t", TaskState.RETRY, 1);

      const early = await lateResult(ghost, assignment);
      expect(early).toMatchObject({ accepted: false, reason: "lease expired" });

      await spawnAgent({ serverUrl: cp.url, name: "rescuer", slots: 1 });
      await waitForAgents(cp.clients, ["rescuer"]);
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);

      const late = await lateResult(ghost, assignment);
      expect(late).toMatchObject({ accepted: false, reason: "lease expired" });
      const leases = assignment.lease ? [assignment.lease] : [];
      ghost.send({ case: "heartbeat", value: { leases } });
      const beat = await ghost.next(
        (r) => r.message.case === "heartbeatAck",
        "a heartbeat ack",
      );
      expect(
        beat.message.case === "heartbeatAck" &&
          beat.message.value.staleLeases.map((l) => l.leaseId),
      ).toEqual([assignment.lease?.leaseId]);

      const refused = logs
        .lines()
        .filter(
          (l) =>
            l.msg === "result refused" &&
            l.lease_id === assignment.lease?.leaseId,
        );
      expect(refused).toHaveLength(2);
      const { run: after } = await cp.clients.runs.getRun({ runId });
      const task = after?.tasks[0];
      expect(after?.state).toBe(RunState.SUCCESS);
      expect(task?.output).toEqual(expect.objectContaining({ attempt: 2 }));
      expect(task?.output).not.toHaveProperty("forged");
      expect(
        task?.attempts.map((a) => [a.agentName, AttemptOutcome[a.outcome]]),
      ).toEqual([
        ["ghost", "LOST"],
        ["rescuer", "SUCCESS"],
      ]);
      const history = await checkRunHistory(cp.controlPlane.database.db, runId);
      expect(history.attempts.find((a) => a.number === 1)).toMatchObject({
        outcome: "LOST",
        output: null,
        exitCode: null,
      });
    });
  },
);
