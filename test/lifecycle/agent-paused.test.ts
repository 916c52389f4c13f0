import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  waitForOutput,
} from "../support/agent-process.js";
import {
  type CapturedLogger,
  captureLogger,
} from "../support/capture-logger.js";
import { pollUntil } from "../support/poll-until.js";
import { checkRunHistory } from "../support/run-history.js";
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

const LEASE_TTL_MS = 2000;
const retry = { max_attempts: 3, initial_delay: 0 };

/**
 * `late`: attempt 1 waits for the gate file, which opens while its agent
 * is stopped, so its result is ready the moment the agent resumes.
 * `tree`: attempt 1 starts background children and waits for them, so
 * the resumed agent must kill a whole stale process tree. Later attempts
 * of both finish at once.
 */
function definition(gate: string) {
  const first = (body: string) =>
    `if [ \${task.attempt} -eq 1 ]; then ${body}; fi; ` +
    'echo "attempt=${task.attempt}" >> "$DEERFLOW_OUTPUT"';
  return {
    name: "agent-sigstop",
    tasks: [
      {
        id: "late",
        type: "shell",
        command: first(`while [ ! -e ${gate} ]; do sleep 0.05; done`),
        retry,
      },
      {
        id: "tree",
        type: "shell",
        command: first("sleep 600 & sh -c 'sleep 600 & wait' & wait"),
        retry,
      },
    ],
  };
}

describe.each(testBackends())(
  "an agent paused past its lease on $name",
  (backend) => {
    let cp: TestControlPlane;
    let logs: CapturedLogger;
    let dir: string;
    beforeEach(async () => {
      logs = captureLogger();
      cp = await startTestControlPlane(backend, {
        leaseTtlMs: LEASE_TTL_MS,
        logger: logs.logger,
      });
      dir = await mkdtemp(join(tmpdir(), "deerflow-sigstop-"));
    });
    afterEach(async () => {
      await stopAllAgents();
      await killTrackedRunProcesses();
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("SIGSTOP past the lease, SIGCONT: the late result does not stand, the newer one does, the stale tree is killed", async () => {
      const victim = await spawnAgent({
        serverUrl: cp.url,
        name: "victim",
        slots: 2,
        // Debug: its heartbeat acknowledgements are the test's fence.
        env: { DEERFLOW_KILL_GRACE_MS: "1000", DEERFLOW_LOG_LEVEL: "debug" },
      });
      await waitForAgents(cp.clients, ["victim"]);
      const gate = join(dir, "gate");
      const runId = await startInline(cp.clients, definition(gate));
      trackRunProcesses(runId);
      for (const id of ["late", "tree"]) {
        await waitForTaskState(cp.clients, runId, id, TaskState.RUNNING, 1);
      }
      // The tree is up before the agent stops: sh, sleep, sh, sleep.
      const staleTree = await pollUntil(async () => {
        const pids = await processesOfRun(runId, "tree");
        return pids.length >= 4 ? pids : undefined;
      }, "the tree's processes starting");

      victim.kill("SIGSTOP");
      await spawnAgent({ serverUrl: cp.url, name: "rescuer", slots: 2 });
      await waitForAgents(cp.clients, ["rescuer"]);
      await writeFile(gate, "");
      const run = await waitForRunEnd(cp.clients, runId);
      expect(run.state, run.error).toBe(RunState.SUCCESS);
      const lateLease = run.tasks.find((t) => t.id === "late")?.attempts[0];
      const treeLease = run.tasks.find((t) => t.id === "tree")?.attempts[0];
      expect(lateLease?.agentName).toBe("victim");

      victim.kill("SIGCONT");
      for (const lease of [lateLease, treeLease]) {
        await waitForOutput(
          victim,
          new RegExp(`"lease_id":"${lease?.leaseId}".*"attempt finished"`),
        );
      }
      // The session is ordered: once a heartbeat sent after both attempts
      // ended is answered, whatever result they sent has been handled.
      const ended = victim.output().length;
      await pollUntil(
        () =>
          victim.output().slice(ended).includes('"heartbeat acknowledged"') ||
          undefined,
        "a heartbeat round trip after the stale attempts ended",
      );
      // The agent sent the late result and it was refused, or it dropped
      // it first because the control plane had named the lease stale.
      const refusals = logs.lines().filter((l) => l.msg === "result refused");
      for (const refusal of refusals) {
        expect([lateLease?.leaseId, treeLease?.leaseId]).toContain(
          refusal.lease_id,
        );
      }
      // Found by environment, so a pid reused since cannot fool it.
      expect(await processesOfRun(runId)).toEqual([]);
      expect(staleTree.length).toBeGreaterThanOrEqual(4);

      const after = await waitForRunEnd(cp.clients, runId);
      expect(after.state).toBe(RunState.SUCCESS);
      for (const task of after.tasks) {
        expect(task.output, task.id).toMatchObject({ attempt: 2 });
        expect(
          task.attempts.map((a) => [a.agentName, AttemptOutcome[a.outcome]]),
          task.id,
        ).toEqual([
          ["victim", "LOST"],
          ["rescuer", "SUCCESS"],
        ]);
      }
      await checkRunHistory(cp.controlPlane.database.db, runId);
    });
  },
);
