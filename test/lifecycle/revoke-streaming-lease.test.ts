import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaseService } from "../../gen/deerflow/v1/lease_pb.js";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import {
  killTrackedRunProcesses,
  processesOfRun,
  trackRunProcesses,
} from "../support/run-processes.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForRunEnd, waitForTaskState } from "../support/watch-run.js";

/**
 * Far longer than the test may wait: a revoked attempt whose task had to
 * wait out its lease would not run again before the test times out.
 */
const LEASE_TTL_MS = 10 * 60_000;

const DEFINITION = {
  name: "revoke-streaming",
  tasks: [
    {
      id: "slow",
      type: "shell",
      command:
        'if [ ${task.attempt} -eq 1 ]; then sleep 600; fi; echo "attempt=${task.attempt}"',
      retry: { max_attempts: 2, initial_delay: 0 },
    },
  ],
};

describe.each(testBackends())(
  "revoking a streaming agent's lease on $name",
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

    it("stops the attempt, and the agent's word that it stopped frees the task at once, not when the lease runs out", async () => {
      await spawnAgent({ serverUrl: cp.url, name: "holder", slots: 1 });
      await waitForAgents(cp.clients, ["holder"]);
      const runId = await startInline(cp.clients, DEFINITION);
      trackRunProcesses(runId);
      await waitForTaskState(cp.clients, runId, "slow", TaskState.RUNNING, 1);
      const leases = createClient(
        LeaseService,
        createGrpcTransport({ baseUrl: cp.url }),
      );
      const { leases: held } = await leases.listLeases({ runId });
      expect(held).toHaveLength(1);

      await leases.revokeLease({
        leaseId: held[0]?.id,
        reason: "host is being drained",
      });

      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      const attempts = run.tasks[0]?.attempts ?? [];
      expect(attempts.map((a) => a.error)).toEqual([
        "the lease was revoked: host is being drained",
        "",
      ]);
      // The first attempt's `sleep 600` was stopped, not left behind.
      expect(await processesOfRun(runId, "slow")).toEqual([]);
    });
  },
);
