import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
import { checkRunHistory } from "../support/run-history.js";
import {
  killTrackedRunProcesses,
  trackRunProcesses,
} from "../support/run-processes.js";
import { firstAttemptHangs, startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForRunEnd, waitForTaskState } from "../support/watch-run.js";

/** Short, so that the killed agent's lease runs out soon. */
const LEASE_TTL_MS = 2000;

const definition = firstAttemptHangs("agent-sigkill");

describe.each(testBackends())(
  "an agent killed mid-attempt on $name",
  (backend) => {
    let cp: TestControlPlane;
    beforeEach(async () => {
      cp = await startTestControlPlane(backend, { leaseTtlMs: LEASE_TTL_MS });
    });
    afterEach(async () => {
      await stopAllAgents();
      await killTrackedRunProcesses();
      await cp.close();
    });

    it("SIGKILL: the task is retried on another agent once the lease expires, with one SUCCESS", async () => {
      const doomed = await spawnAgent({
        serverUrl: cp.url,
        name: "doomed",
        slots: 1,
      });
      await waitForAgents(cp.clients, ["doomed"]);
      const runId = await startInline(cp.clients, definition);
      trackRunProcesses(runId);
      const running = await waitForTaskState(
        cp.clients,
        runId,
        "work",
        TaskState.RUNNING,
        1,
      );
      await spawnAgent({ serverUrl: cp.url, name: "rescuer", slots: 1 });
      await waitForAgents(cp.clients, ["rescuer"]);

      doomed.kill("SIGKILL");
      expect(await doomed.exited).toBe("SIGKILL");

      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      const [task] = run.tasks;
      expect(task?.output).toMatchObject({ attempt: 2 });
      expect(
        task?.attempts.map((a) => [
          a.number,
          a.agentName,
          AttemptOutcome[a.outcome],
        ]),
      ).toEqual([
        [1, "doomed", "LOST"],
        [2, "rescuer", "SUCCESS"],
      ]);
      expect(task?.attempts[0]?.agentId).toBe(running.agentId);

      const history = await checkRunHistory(cp.controlPlane.database.db, runId);
      expect(history.leases.map((l) => [l.attempt, l.state]).sort()).toEqual([
        [1, "EXPIRED"],
        [2, "RELEASED"],
      ]);
      const successes = history.attempts.filter((a) => a.outcome === "SUCCESS");
      expect(successes.map((a) => a.number)).toEqual([2]);
      // The killed agent could not stop attempt 1's processes (they are in
      // their own process group and outlive it); afterEach kills them.
    });
  },
);
