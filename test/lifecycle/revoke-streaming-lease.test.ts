import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { pollUntil } from "../support/poll-until.js";
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

/**
 * Attempt 1 ignores SIGTERM, so its process tree lives until the kill
 * grace ends in a SIGKILL (5 s); attempt 2 says whether attempt 1's shell
 * was still alive when it started.
 */
function stubbornThenCheck(dir: string) {
  const pid = join(dir, "attempt-1.pid");
  return {
    name: "stubborn-then-check",
    tasks: [
      {
        id: "slow",
        type: "shell",
        command:
          `if [ \${task.attempt} -eq 1 ]; then echo $$ > ${pid}; trap '' TERM; sleep 600; fi; ` +
          `if kill -0 "$(cat ${pid})" 2>/dev/null; then echo '{"overlap":true}'; ` +
          `else echo '{"overlap":false}'; fi > "$DEERFLOW_OUTPUT"`,
        retry: { max_attempts: 2, initial_delay: 0 },
      },
    ],
  };
}

describe.each(testBackends())(
  "an attempt that takes long to stop, on $name",
  (backend) => {
    let cp: TestControlPlane | undefined;
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "deerflow-revoke-"));
    });
    afterEach(async () => {
      await stopAllAgents();
      await killTrackedRunProcesses();
      await cp?.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function running(leaseTtlMs: number, heartbeatIntervalMs?: number) {
      cp = await startTestControlPlane(backend, {
        leaseTtlMs,
        heartbeatIntervalMs,
      });
      // A free slot beside attempt 1, so nothing but the lease holds the
      // retry back.
      await spawnAgent({ serverUrl: cp.url, name: "holder", slots: 2 });
      await waitForAgents(cp.clients, ["holder"]);
      const runId = await startInline(cp.clients, stubbornThenCheck(dir));
      trackRunProcesses(runId);
      await waitForTaskState(cp.clients, runId, "slow", TaskState.RUNNING, 1);
      await pollUntil(
        async () =>
          (await processesOfRun(runId, "slow")).length >= 2 || undefined,
        "attempt 1's shell and sleep",
      );
      return { cp, runId };
    }

    it("keeps a revoked lease shorter than the stop from letting the retry run beside it", async () => {
      // The lease (2 s) runs out long before the kill grace (5 s) does.
      const { cp, runId } = await running(2_000);
      const leases = createClient(
        LeaseService,
        createGrpcTransport({ baseUrl: cp.url }),
      );
      const { leases: held } = await leases.listLeases({ runId });
      await leases.revokeLease({ leaseId: held[0]?.id });
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      expect(run.tasks[0]?.attempts).toHaveLength(2);
      expect(run.tasks[0]?.output).toMatchObject({ overlap: false });
    });

    it("keeps a stopping attempt's last log lines, and its word that it stopped", async () => {
      // The lease outlives the test: only the agent's result after the
      // lines can free the task. Those lines arrived while the lease was
      // REVOKED, were refused as stale, and the agent dropped the attempt
      // without ever saying it stopped.
      cp = await startTestControlPlane(backend, {
        leaseTtlMs: 10 * 60_000,
        heartbeatIntervalMs: 500,
      });
      await spawnAgent({ serverUrl: cp.url, name: "holder", slots: 2 });
      await waitForAgents(cp.clients, ["holder"]);
      const runId = await startInline(cp.clients, {
        name: "says-goodbye",
        tasks: [
          {
            id: "slow",
            type: "shell",
            command:
              "if [ ${task.attempt} -eq 1 ]; then " +
              "trap 'echo saving checkpoint; sleep 1; echo saved; exit 0' TERM; " +
              "echo started; sleep 600 & wait $!; fi; echo attempt=${task.attempt}",
            retry: { max_attempts: 2, initial_delay: 0 },
          },
        ],
      });
      trackRunProcesses(runId);
      await waitForTaskState(cp.clients, runId, "slow", TaskState.RUNNING, 1);
      await pollUntil(async () => {
        const { lines } = (await cp?.clients.runs.getTaskLogs({
          runId,
          taskId: "slow",
        })) ?? { lines: [] };
        return lines.some((l) => l.message === "started") || undefined;
      }, "attempt 1 started");
      await cp.clients.runs.killTask({ runId, taskId: "slow" });
      await cp.clients.runs.retryTask({ runId, taskId: "slow" });
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      const { lines } = await cp.clients.runs.getTaskLogs({
        runId,
        taskId: "slow",
        attempt: 1,
      });
      // With the shell's own word on its sleep, and the agent's on the stop.
      const said = lines.map((l) => l.message);
      expect(said.filter((m) => /^(started|saving|saved)/.test(m))).toEqual([
        "started",
        "saving checkpoint",
        "saved",
      ]);
    });

    it("runs a killed task retried once its attempt has stopped, not when its lease runs out", async () => {
      // Waiting out this lease would outlast the test; the agent names the
      // killed lease in heartbeats while its attempt stops.
      const { cp, runId } = await running(10 * 60_000, 500);
      await cp.clients.runs.killTask({ runId, taskId: "slow" });
      await cp.clients.runs.retryTask({ runId, taskId: "slow" });
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      expect(run.tasks[0]?.output).toMatchObject({ overlap: false });
    });
  },
);
