import {
  createClient,
  type DeerFlowClient,
  type Protocol,
  param,
  type RunEvent,
  RunState,
  ShellTask,
  TaskState,
  Workflow,
} from "deerflow/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nightlyReport } from "../../examples/sdk/nightly-report.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/** How long a run of these tests may take before the wait gives up. */
const RUN_TIMEOUT_MS = 90_000;
/** The machine is shared and slow at times: an agent may start slowly. */
const AGENT_START_TIMEOUT_MS = 120_000;

describe.each(testBackends())(
  "the typed client on $name",
  {
    timeout: RUN_TIMEOUT_MS + 30_000,
  },
  (backend) => {
    let cp: TestControlPlane;
    const clients: DeerFlowClient[] = [];

    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
      await spawnAgent({ serverUrl: cp.url, name: "sdk-agent", slots: 4 });
      await waitForAgents(cp.clients, ["sdk-agent"], AGENT_START_TIMEOUT_MS);
    }, AGENT_START_TIMEOUT_MS + 60_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      await stopAllAgents();
      await cp?.close();
    });

    function connect(protocol?: Protocol): DeerFlowClient {
      const client = createClient({
        baseUrl: cp.url,
        ...(protocol ? { protocol } : {}),
      });
      clients.push(client);
      return client;
    }

    it("starts the builder's workflow and waits for its result", async () => {
      const client = connect();
      const started = await client.startRun({ definition: nightlyReport });
      expect(started.workflowName).toBe("nightly-report");
      const events: RunEvent[] = [];
      const run = await client.waitForRun(started.id, {
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
        onEvent: (event) => events.push(event),
      });

      expect(run.state, run.error).toBe(RunState.SUCCESS);
      const task = (id: string) => run.tasks.find((t) => t.id === id);
      expect(task("extract")?.output).toMatchObject({ rows: 120 });
      expect(task("summarize")?.output).toEqual({ result: { kept: 60 } });
      expect(task("report")?.state).toBe(TaskState.SUCCESS);
      expect(String(task("report")?.output?.stdout)).toContain(
        "report for 2026-12-01 SUCCESS",
      );
      const last = events.at(-1);
      expect(last?.kind.case).toBe("runStateChanged");
      expect(last?.kind.value?.state).toBe(RunState.SUCCESS);
    });

    it.each(["connect", "grpc", "grpc-web"] as const)(
      "runs a workflow with overridden params over %s",
      async (protocol) => {
        const client = connect(protocol);
        const greet = new Workflow({
          name: "sdk-greet",
          params: { word: "default" },
        }).add(new ShellTask("say", `echo said ${param("word")}`));
        const started = await client.startRun({
          definition: greet,
          params: { word: `hi-${protocol}` },
        });
        const run = await client.waitForRun(started.id, {
          signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
        });
        expect(run.state, run.error).toBe(RunState.SUCCESS);
        expect(run.params).toEqual({ word: `hi-${protocol}` });
        expect(String(run.tasks[0]?.output?.stdout)).toContain(
          `said hi-${protocol}`,
        );
      },
    );

    it("starts a registered workflow by name and version", async () => {
      const client = connect();
      const echo = (word: string) =>
        new Workflow({ name: "sdk-registered" }).add(
          new ShellTask("say", `echo version ${word}`),
        );
      const one = await client.registerWorkflow(echo("one"));
      const two = await client.registerWorkflow(echo("two"));
      expect([one.workflow?.version, two.workflow?.version]).toEqual([1, 2]);
      const first = await client.startRun({
        workflow: "sdk-registered",
        version: 1,
      });
      const latest = await client.startRun({ workflow: "sdk-registered" });
      expect([first.workflowVersion, latest.workflowVersion]).toEqual([1, 2]);
      const said = async (runId: string) => {
        const run = await client.waitForRun(runId, {
          signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
        });
        expect(run.state, run.error).toBe(RunState.SUCCESS);
        return String(run.tasks[0]?.output?.stdout).trim();
      };
      expect(await said(first.id)).toBe("version one");
      expect(await said(latest.id)).toBe("version two");
    });

    it("returns a failed run as failed, with the task's error", async () => {
      const client = connect();
      const failing = new Workflow({ name: "sdk-fail" }).add(
        new ShellTask("boom", "exit 3"),
      );
      const started = await client.startRun({ definition: failing });
      const run = await client.waitForRun(started.id, {
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
      });
      expect(run.state).toBe(RunState.FAILED);
      expect(run.tasks[0]?.exitCode).toBe(3);
    });
  },
);
