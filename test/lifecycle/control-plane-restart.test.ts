import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../../agent/index.js";
import { createApiClients } from "../../cli/api-clients.js";
import { type Database, openDatabase } from "../../control-plane/index.js";
import { silentLogger } from "../../core/index.js";
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
import { startInline } from "../support/runs.js";
import {
  type ServerProcess,
  startServerProcess,
  stopAllServers,
} from "../support/server-process.js";
import { type TestDatabase, testBackends } from "../support/test-database.js";
import {
  waitForRunEnd,
  waitForTaskEvent,
  waitForTaskState,
} from "../support/watch-run.js";

const TASKS = 200;

/** Each task sleeps a little, so that attempts are running at the kill. */
function manyTasks() {
  return {
    name: "restart-many",
    tasks: Array.from({ length: TASKS }, (_, i) => ({
      id: `t${i}`,
      type: "shell",
      command: 'sleep 0.2; echo id=${task.id} >> "$DEERFLOW_OUTPUT"',
      retry: { max_attempts: 3, initial_delay: 0 },
    })),
  };
}

// One PostgreSQL database outlives a control-plane process; PGlite's data
// directory may be opened by one process only, so these need PostgreSQL.
const postgres = testBackends().find((b) => b.name === "postgres");

describe.skipIf(!postgres)(
  "the control plane killed and restarted (needs PostgreSQL: TEST_DATABASE_URL)",
  () => {
    let database: TestDatabase;
    let reader: Database | undefined;
    let server: ServerProcess;
    beforeEach(async () => {
      if (!postgres) return;
      database = await postgres.create();
    });
    afterEach(async () => {
      await stopAllAgents();
      await killTrackedRunProcesses();
      await stopAllServers();
      await reader?.close();
      reader = undefined;
      await database?.drop();
    });

    async function history(runId: string) {
      reader ??= await openDatabase({
        url: database.url,
        logger: silentLogger(),
      });
      return checkRunHistory(reader.db, runId);
    }

    it("SIGKILL mid-run: the run completes, no result lost or doubled, no attempt restarted", async () => {
      server = await startServerProcess({ databaseUrl: database.url });
      const clients = createApiClients(server.url);
      for (const name of ["left", "right"]) {
        await spawnAgent({ serverUrl: server.url, name, slots: 4 });
      }
      await waitForAgents(clients, ["left", "right"]);
      const runId = await startInline(clients, manyTasks());
      trackRunProcesses(runId);
      let done = 0;
      await waitForTaskEvent(
        clients,
        runId,
        (e) => e.state === TaskState.SUCCESS && ++done >= TASKS / 5,
        `${TASKS / 5} tasks succeeding`,
      );

      const killedAt = Date.now();
      expect(await server.kill("SIGKILL")).toBe("SIGKILL");
      server = await server.restart();
      const again = createApiClients(server.url);
      const run = await waitForRunEnd(again, runId, 90_000);

      expect(run.state, run.error).toBe(RunState.SUCCESS);
      expect(run.tasks).toHaveLength(TASKS);
      for (const task of run.tasks) {
        expect(task.output, task.id).toMatchObject({ id: task.id });
        // Only attempts that started count: an assignment an agent
        // rejected (see credit-after-acknowledge.test.ts) never ran.
        const started = task.attempts.filter((a) => a.startedAt);
        expect(
          started.map((a) => AttemptOutcome[a.outcome]),
          `${task.id}'s started attempts`,
        ).toEqual(["SUCCESS"]);
      }
      // The history checker: exactly one SUCCESS per task, and each
      // task's output is its successful attempt's.
      await history(runId);
      // Some attempts started before the kill and ended after it: they ran
      // through the restart and were re-attached, not started over.
      const spanning = run.tasks.filter((t) => {
        const a = t.attempts.find((x) => x.startedAt);
        return (
          a?.startedAt !== undefined &&
          a.finishedAt !== undefined &&
          timestampMs(a.startedAt) <= killedAt &&
          timestampMs(a.finishedAt) > killedAt
        );
      });
      expect(spanning.length).toBeGreaterThan(0);
    });

    it("lease expiry pauses while no replica is up: a keep_running attempt outlives a downtime longer than lost_after", async () => {
      const options = { databaseUrl: database.url, leaseTtlMs: 6000 };
      server = await startServerProcess(options);
      const clients = createApiClients(server.url);
      const dir = await mkdtemp(join(tmpdir(), "deerflow-restart-"));
      // In this process, for a reconnect delay short enough that the
      // lease's remaining time (after the credit) covers it.
      const agent: RunningAgent = await startAgent({
        serverUrl: server.url,
        name: "steady",
        slots: 1,
        stateDir: join(dir, "state"),
        reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
        logger: silentLogger(),
      });
      try {
        await waitForAgents(clients, ["steady"]);
        const gate = join(dir, "gate");
        const runId = await startInline(clients, {
          name: "outlives-downtime",
          tasks: [
            {
              id: "steady",
              type: "shell",
              command:
                `while [ ! -e ${gate} ]; do sleep 0.05; done; ` +
                'echo "attempt=${task.attempt}" >> "$DEERFLOW_OUTPUT"',
              on_agent_disconnect: "keep_running",
              lost_after: 4,
              retry: { max_attempts: 3, initial_delay: 0 },
            },
          ],
        });
        trackRunProcesses(runId);
        await waitForTaskState(clients, runId, "steady", TaskState.RUNNING);

        await server.kill("SIGKILL");
        // The downtime is the condition under test: longer than lost_after.
        await new Promise((r) => setTimeout(r, 5000));
        server = await server.restart();
        const again = createApiClients(server.url);
        await waitForAgents(again, ["steady"]);
        await writeFile(gate, "");
        const run = await waitForRunEnd(again, runId);

        expect(run.state, run.error).toBe(RunState.SUCCESS);
        const task = run.tasks[0];
        expect(task?.output).toMatchObject({ attempt: 1 });
        expect(task?.attempts.map((a) => AttemptOutcome[a.outcome])).toEqual([
          "SUCCESS",
        ]);
        await history(runId);
      } finally {
        await agent.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
