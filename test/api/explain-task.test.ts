import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState } from "../../gen/deerflow/v1/run_pb.js";
import { pollUntil } from "../support/poll-until.js";
import { runCli } from "../support/run-cli.js";
import { startInline } from "../support/runs.js";
import {
  assignmentsIn,
  openScriptedAgent,
  type ScriptedAgent,
} from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForTaskState } from "../support/watch-run.js";

const shell = (id: string, more: object = {}) => ({
  id,
  type: "shell",
  command: "echo never",
  ...more,
});

describe.each(testBackends())("ExplainTask on $name", (backend) => {
  let cp: TestControlPlane;
  const agents: ScriptedAgent[] = [];
  /** The run whose tasks fill both agents, and the task left waiting. */
  let busyRun = "";

  const explain = (runId: string, taskId: string) =>
    cp.clients.runs.explainTask({ runId, taskId });

  async function startOne(task: object): Promise<string> {
    return startInline(cp.clients, { name: "explained", tasks: [task] });
  }

  beforeAll(async () => {
    // Leases outlive the test: its agents send no heartbeats.
    cp = await startTestControlPlane(backend, { leaseTtlMs: 600_000 });
  });

  afterAll(async () => {
    for (const agent of agents) await agent.close();
    await cp?.close();
  });

  it("says when no agent is known at all", async () => {
    const runId = await startOne(shell("lonely"));
    const answer = await explain(runId, "lonely");
    expect(answer.state).toBe(TaskState.QUEUED);
    expect(answer.summary).toBe(
      "no agent is known: start one with `deerflow agent`",
    );
    expect(answer.agents).toEqual({});
    // Two agents that take nothing until they send credit.
    agents.push(
      await openScriptedAgent(cp.url, {
        name: "cpu-1",
        labels: { gpu: "false" },
      }),
      await openScriptedAgent(cp.url, {
        name: "cpu-2",
        labels: { gpu: "false", zone: "eu-1" },
      }),
    );
    const again = await explain(runId, "lonely");
    expect(again.summary).toBe(
      "2 agents fit with free slots (cpu-1, cpu-2); it is taken when one " +
        "of them next asks for work, after higher-priority and older tasks",
    );
    expect(again.agents).toEqual({
      "cpu-1": "fits (1 of 1 slots free)",
      "cpu-2": "fits (1 of 1 slots free)",
    });
    // Out of the way of the tests below, which give the agents credit.
    await cp.clients.runs.killTask({ runId, taskId: "lonely" });
  });

  it("names a type no agent provides", async () => {
    const runId = await startOne({
      id: "fetch",
      type: "http",
      config: { url: "http://127.0.0.1:9/" },
    });
    const answer = await explain(runId, "fetch");
    expect(answer.state).toBe(TaskState.QUEUED);
    expect(answer.summary).toBe(
      'no agent provides type "http" (2 agents known)',
    );
    expect(answer.agents).toEqual({
      "cpu-1": 'does not provide type "http"',
      "cpu-2": 'does not provide type "http"',
    });
  });

  it("names a node_selector no agent matches, and each agent's value", async () => {
    const runId = await startOne(
      shell("train", { node_selector: { gpu: "true" } }),
    );
    const answer = await explain(runId, "train");
    expect(answer.summary).toBe(
      "node_selector gpu=true matches no agent (2 agents known)",
    );
    expect(answer.agents).toEqual({
      "cpu-1": "node_selector gpu=true: agent has gpu=false",
      "cpu-2": "node_selector gpu=true: agent has gpu=false",
    });
  });

  it("names the affinity expression no agent meets", async () => {
    const runId = await startOne(
      shell("west", {
        affinity: [{ key: "zone", operator: "In", values: ["us-1"] }],
      }),
    );
    const answer = await explain(runId, "west");
    expect(answer.summary).toBe(
      "affinity zone In (us-1) matches no agent (2 agents known)",
    );
    expect(answer.agents).toEqual({
      "cpu-1": "affinity zone In (us-1): label zone not set",
      "cpu-2": "affinity zone In (us-1): agent has zone=eu-1",
    });
  });

  it("says all agents that fit are busy, and what the others run", async () => {
    busyRun = await startInline(cp.clients, {
      name: "busy",
      tasks: [
        shell("hold-1", { priority: 10 }),
        shell("hold-2", { priority: 10 }),
        shell("wait"),
        shell("after", { depends_on: ["hold-1"] }),
      ],
    });
    for (const agent of agents) {
      agent.send({ case: "credit", value: { freeSlots: 1 } });
      const response = await agent.next(
        (r) => assignmentsIn(r).length > 0,
        `an assignment for ${agent.agentId}`,
      );
      for (const assignment of assignmentsIn(response)) {
        agent.send({ case: "acknowledge", value: { lease: assignment.lease } });
      }
    }
    await waitForTaskState(cp.clients, busyRun, "hold-1", TaskState.RUNNING);
    await waitForTaskState(cp.clients, busyRun, "hold-2", TaskState.RUNNING);

    const answer = await explain(busyRun, "wait");
    expect(answer.state).toBe(TaskState.QUEUED);
    expect(answer.summary).toBe("2 agents fit; all are busy (2 of 2 slots)");
    expect(answer.agents).toEqual({
      "cpu-1": "full (1 of 1 slots taken)",
      "cpu-2": "full (1 of 1 slots taken)",
    });

    const running = await explain(busyRun, "hold-1");
    expect(running.state).toBe(TaskState.RUNNING);
    expect(running.summary).toMatch(
      /^running on agent cpu-[12] \(attempt 1\)$/,
    );
    expect(running.agents).toEqual({});
    const after = await explain(busyRun, "after");
    expect(after.state).toBe(TaskState.CREATED);
    expect(after.summary).toBe("waiting for upstream hold-1");
  });

  it("puts cordoned agents before their slots", async () => {
    for (const agent of ["cpu-1", "cpu-2"]) {
      await cp.clients.agents.cordonAgent({ agent });
    }
    const answer = await explain(busyRun, "wait");
    expect(answer.summary).toBe(
      "2 agents fit; none takes new work: cpu-1 (cordoned), cpu-2 (cordoned)",
    );
    expect(answer.agents).toEqual({
      "cpu-1": "cordoned; full (1 of 1 slots taken)",
      "cpu-2": "cordoned; full (1 of 1 slots taken)",
    });
  });

  it("is printed by `deerflow explain`, as text and as JSON", async () => {
    const text = await runCli(["explain", busyRun, "wait", "--server", cp.url]);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "task wait: QUEUED: 2 agents fit; none takes new work: " +
        "cpu-1 (cordoned), cpu-2 (cordoned)",
    );
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/))).toEqual([
      ["AGENT", "WHY"],
      ["cpu-1", "cordoned; full (1 of 1 slots taken)"],
      ["cpu-2", "cordoned; full (1 of 1 slots taken)"],
    ]);
    const json = await runCli(["explain", busyRun, "wait", "--json"], {
      DEERFLOW_SERVER: cp.url,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      state: "QUEUED",
      summary:
        "2 agents fit; none takes new work: cpu-1 (cordoned), cpu-2 (cordoned)",
      agents: {
        "cpu-1": "cordoned; full (1 of 1 slots taken)",
        "cpu-2": "cordoned; full (1 of 1 slots taken)",
      },
    });
  });

  it("says a finished task has finished, and how", async () => {
    await cp.clients.runs.killTask({
      runId: busyRun,
      taskId: "wait",
      reason: "not needed",
    });
    const answer = await explain(busyRun, "wait");
    expect(answer.state).toBe(TaskState.KILLED);
    expect(answer.summary).toBe("finished: not needed");
  });

  it("says an agent whose session ended is disconnected", async () => {
    const runId = await startOne(shell("later"));
    await agents[1]?.close();
    const answer = await pollUntil(async () => {
      const a = await explain(runId, "later");
      return a.agents["cpu-2"]?.startsWith("disconnected") ? a : undefined;
    }, "cpu-2 shown disconnected");
    expect(answer.agents["cpu-2"]).toBe("disconnected");
    expect(answer.agents["cpu-1"]).toBe("cordoned; full (1 of 1 slots taken)");
    expect(answer.summary).toBe(
      "2 agents fit; none takes new work: cpu-1 (cordoned), " +
        "cpu-2 (disconnected)",
    );
    await cp.clients.runs.killTask({ runId, taskId: "later" });
  });

  it("says when the run's concurrency holds a task back", async () => {
    const limited = await startInline(cp.clients, {
      name: "limited",
      concurrency: 1,
      tasks: [shell("first", { priority: 10 }), shell("second")],
    });
    const roomy = await openScriptedAgent(cp.url, {
      name: "cpu-3",
      labels: { gpu: "false" },
      slots: 2,
    });
    agents.push(roomy);
    roomy.send({ case: "credit", value: { freeSlots: 2 } });
    const response = await roomy.next(
      (r) => assignmentsIn(r).length > 0,
      "an assignment for cpu-3",
    );
    const [assignment] = assignmentsIn(response);
    expect(assignment?.taskId).toBe("first");
    roomy.send({ case: "acknowledge", value: { lease: assignment?.lease } });
    await waitForTaskState(cp.clients, limited, "first", TaskState.RUNNING);

    const answer = await explain(limited, "second");
    expect(answer.state).toBe(TaskState.QUEUED);
    expect(answer.summary).toBe(
      "the run's concurrency limit is reached (1 of 1 attempts hold leases)",
    );
    expect(answer.agents["cpu-3"]).toBe(
      "run concurrency limit reached (1 of 1)",
    );
  });

  it("refuses a malformed id naming the field, and an unknown task", async () => {
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    const badRun = await codeOf(explain("nope", "t"));
    expect(badRun?.code).toBe(Code.InvalidArgument);
    expect(badRun?.rawMessage).toContain("run_id");
    const noTask = await codeOf(explain(busyRun, ""));
    expect(noTask?.code).toBe(Code.InvalidArgument);
    expect(noTask?.rawMessage).toContain("task_id");
    const unknownTask = await codeOf(explain(busyRun, "ghost"));
    expect(unknownTask?.code).toBe(Code.NotFound);
    expect(unknownTask?.rawMessage).toBe(
      `task ghost of run ${busyRun} not found`,
    );
    const unknownRun = await codeOf(
      explain("00000000-0000-4000-8000-000000000000", "wait"),
    );
    expect(unknownRun?.code).toBe(Code.NotFound);
    expect(unknownRun?.rawMessage).toBe(
      "run 00000000-0000-4000-8000-000000000000 not found",
    );
  });
});
