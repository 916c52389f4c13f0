import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AttemptOutcome,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  type AgentProcess,
  spawnAgent,
  stopAllAgents,
  waitForAgents,
  waitForOutput,
} from "../support/agent-process.js";
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

/**
 * A task whose tree has three levels and a member that ignores SIGTERM
 * (so only the SIGKILL after the grace period stops it). It touches
 * `ready` once every child is started, then waits for them forever.
 */
function treeTask(ready: string, timeout?: number) {
  return {
    id: "tree",
    type: "shell",
    command:
      "sleep 600 & " +
      "(trap '' TERM; sleep 600) & " +
      "sh -c 'sleep 600 & sh -c \"sleep 600\" & wait' & " +
      `sleep 0.2; touch ${ready}; wait`,
    ...(timeout === undefined ? {} : { timeout }),
  };
}

// The kill is the agent's work; the backend does not change it, so one
// backend is enough here.
const [backend] = testBackends();

describe.runIf(backend)(`a task's process tree, on ${backend?.name}`, () => {
  let cp: TestControlPlane;
  let agent: AgentProcess;
  let dir: string;
  beforeEach(async () => {
    if (!backend) return;
    cp = await startTestControlPlane(backend);
    dir = await mkdtemp(join(tmpdir(), "deerflow-tree-"));
    agent = await spawnAgent({
      serverUrl: cp.url,
      name: "reaper",
      env: { DEERFLOW_KILL_GRACE_MS: "1000" },
    });
    await waitForAgents(cp.clients, ["reaper"]);
  });
  afterEach(async () => {
    await stopAllAgents();
    await killTrackedRunProcesses();
    await cp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits until the whole tree is up, so that the test is not vacuous. */
  async function treeStarted(runId: string, ready: string): Promise<void> {
    await pollUntil(() => existsSync(ready) || undefined, "the tree starting");
    // sh, sleep, (subshell) sleep, sh, sleep, sh, sleep: some shells exec
    // their last command, so count the sure ones.
    expect((await processesOfRun(runId)).length).toBeGreaterThanOrEqual(5);
  }

  /** Waits for the agent to finish the attempt, then looks for survivors. */
  async function expectTreeGone(runId: string): Promise<void> {
    await waitForOutput(
      agent,
      new RegExp(`"run_id":"${runId}".*"msg":"attempt finished"`),
    );
    // Found by environment, so a pid reused since cannot fool it.
    expect(await processesOfRun(runId)).toEqual([]);
  }

  it("a timeout kills every process of the tree", async () => {
    const ready = join(dir, "ready");
    const runId = await startInline(cp.clients, {
      name: "tree-timeout",
      tasks: [treeTask(ready, 2)],
    });
    trackRunProcesses(runId);
    await treeStarted(runId, ready);
    const run = await waitForRunEnd(cp.clients, runId);
    expect(run.state).toBe(RunState.FAILED);
    const task = run.tasks[0];
    expect(task?.state).toBe(TaskState.FAILED);
    expect(task?.attempts.map((a) => AttemptOutcome[a.outcome])).toEqual([
      "TIMED_OUT",
    ]);
    await expectTreeGone(runId);
    await checkRunHistory(cp.controlPlane.database.db, runId);
  });

  it("CancelRun kills every process of the tree", async () => {
    const ready = join(dir, "ready");
    const runId = await startInline(cp.clients, {
      name: "tree-cancel",
      tasks: [treeTask(ready)],
    });
    trackRunProcesses(runId);
    await waitForTaskState(cp.clients, runId, "tree", TaskState.RUNNING);
    await treeStarted(runId, ready);
    await cp.clients.runs.cancelRun({ runId, reason: "test cancels" });
    const run = await waitForRunEnd(cp.clients, runId);
    expect(run.state).toBe(RunState.CANCELLED);
    expect(run.tasks[0]?.state).toBe(TaskState.KILLED);
    await expectTreeGone(runId);
    await checkRunHistory(cp.controlPlane.database.db, runId);
  });

  // SPEC §4 says nothing a task started survives it, but the kill is by
  // process group: a child that calls setsid() leaves the group and lives
  // on (plugins/process/kill-process-tree.ts says so). Closing the gap
  // takes a cgroup (or a subreaper) per attempt; then this test fails and
  // should assert the opposite, like the two above.
  it("a timeout also stops a child that left the group with setsid", async () => {
    const ready = join(dir, "ready");
    const runId = await startInline(cp.clients, {
      name: "tree-setsid",
      tasks: [
        {
          id: "escape",
          type: "shell",
          command: `setsid sleep 600 & sleep 0.2; touch ${ready}; wait`,
          timeout: 2,
        },
      ],
    });
    trackRunProcesses(runId);
    await pollUntil(() => existsSync(ready) || undefined, "the task starting");
    const run = await waitForRunEnd(cp.clients, runId);
    expect(
      run.tasks[0]?.attempts.map((a) => AttemptOutcome[a.outcome]),
    ).toEqual(["TIMED_OUT"]);
    await waitForOutput(
      agent,
      new RegExp(`"run_id":"${runId}".*"msg":"attempt finished"`),
    );
    expect(await processesOfRun(runId)).toEqual([]);
  });
});
