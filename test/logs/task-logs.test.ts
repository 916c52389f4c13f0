import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LogLine, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { runCli } from "../support/run-cli.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/**
 * Prints to stdout and stderr; the first attempt fails after its lines,
 * the second succeeds, so the task has lines of two attempts.
 */
const TALK = [
  "echo out-1",
  "echo err-1 >&2",
  "echo out-2",
  "echo err-2 >&2",
  'if [ "$DEERFLOW_ATTEMPT" = 1 ]; then echo failing >&2; exit 3; fi',
  "echo out-3",
].join("; ");

const RETRY_ONCE = { max_attempts: 2, initial_delay: 0 };

const text = (lines: LogLine[], attempt: number, stream: string) =>
  lines
    .filter((l) => l.attempt === attempt && l.stream === stream)
    .map((l) => l.message);

async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) {
    throw new Error(`expected a ConnectError, got ${String(error)}`);
  }
  return error;
}

/** Answers 503 to the first request and 200 to the rest. */
async function flakyServer(): Promise<{ server: Server; url: string }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(requests === 1 ? 503 : 200).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe.each(testBackends())("task logs and metrics on $name", (backend) => {
  let cp: TestControlPlane;
  let env: Record<string, string>;
  let talkRun: string;

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
    env = { DEERFLOW_SERVER: cp.url };
    await spawnAgent({ serverUrl: cp.url, name: "worker" });
    await waitForAgents(cp.clients, ["worker"]);
    talkRun = await startInline(cp.clients, {
      name: "talk",
      tasks: [{ id: "talk", type: "shell", command: TALK, retry: RETRY_ONCE }],
    });
    const run = await waitForRun(cp.clients, talkRun);
    expect(run.tasks.map((t) => TaskState[t.state])).toEqual(["SUCCESS"]);
  });

  afterAll(async () => {
    await stopAllAgents();
    await cp?.close();
  });

  it("reads every attempt's stdout and stderr lines in order", async () => {
    const { lines } = await cp.clients.runs.getTaskLogs({
      runId: talkRun,
      taskId: "talk",
    });
    const keys = lines.map((l) => [l.attempt, Number(l.sequence)]);
    const sorted = [...keys].sort(([a1, s1], [a2, s2]) =>
      a1 === a2 ? (s1 ?? 0) - (s2 ?? 0) : (a1 ?? 0) - (a2 ?? 0),
    );
    expect(keys).toEqual(sorted);
    expect(text(lines, 1, "stdout")).toEqual(["out-1", "out-2"]);
    expect(text(lines, 1, "stderr")).toEqual(["err-1", "err-2", "failing"]);
    expect(text(lines, 2, "stdout")).toEqual(["out-1", "out-2", "out-3"]);
    expect(text(lines, 2, "stderr")).toEqual(["err-1", "err-2"]);
    expect(lines.every((l) => l.time !== undefined && l.level === "")).toBe(
      true,
    );
  });

  it("reads one attempt, after a sequence, a page at a time", async () => {
    const { lines: second } = await cp.clients.runs.getTaskLogs({
      runId: talkRun,
      taskId: "talk",
      attempt: 2,
    });
    expect(second.map((l) => l.attempt)).toEqual([2, 2, 2, 2, 2]);
    const [first, next, ...rest] = second;
    const { lines: page } = await cp.clients.runs.getTaskLogs({
      runId: talkRun,
      taskId: "talk",
      attempt: 2,
      afterSequence: first?.sequence ?? 0n,
      limit: 1,
    });
    expect(page).toEqual([next]);
    const { lines: after } = await cp.clients.runs.getTaskLogs({
      runId: talkRun,
      taskId: "talk",
      attempt: 2,
      afterSequence: next?.sequence ?? 0n,
    });
    expect(after).toEqual(rest);
  });

  it("refuses bad requests with the field's name, unknown ones with NotFound", async () => {
    const logs = (req: object) =>
      rpcError(
        cp.clients.runs.getTaskLogs({
          runId: talkRun,
          taskId: "talk",
          ...req,
        }),
      );
    const bad = [
      [{ runId: "nope" }, "run_id"],
      [{ taskId: "" }, "task_id"],
      [{ attempt: -1 }, "attempt"],
      [{ attempt: 1, afterSequence: -1n }, "after_sequence"],
      [{ afterSequence: 3n }, "after_sequence"],
      [{ limit: -5 }, "limit"],
    ] as const;
    for (const [req, field] of bad) {
      const error = await logs(req);
      expect(error.code, field).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(new RegExp(`^${field}: `));
    }
    const unknownRun = "00000000-0000-4000-8000-000000000000";
    const noRun = await logs({ runId: unknownRun });
    expect(noRun.code).toBe(Code.NotFound);
    expect(noRun.rawMessage).toBe(`run ${unknownRun} not found`);
    const noTask = await logs({ taskId: "other" });
    expect(noTask.code).toBe(Code.NotFound);
    expect(noTask.rawMessage).toContain("task other of run");
    const noMetrics = await rpcError(
      cp.clients.runs.getTaskMetrics({ runId: talkRun, taskId: "other" }),
    );
    expect(noMetrics.code).toBe(Code.NotFound);
    const badMetrics = await rpcError(
      cp.clients.runs.getTaskMetrics({ runId: "x", taskId: "talk" }),
    );
    expect(badMetrics.rawMessage).toMatch(/^run_id: /);
  });

  it("reads a task's metric points in time order, with its plugin log", async () => {
    const { server, url } = await flakyServer();
    try {
      const runId = await startInline(cp.clients, {
        name: "fetch",
        tasks: [
          {
            id: "fetch",
            type: "http",
            url,
            retry: { ...RETRY_ONCE, retry_on: ["5xx"] },
          },
        ],
      });
      await waitForRun(cp.clients, runId);
      const { points } = await cp.clients.runs.getTaskMetrics({
        runId,
        taskId: "fetch",
      });
      expect(
        points.map((p) => [p.attempt, p.name, p.kind, p.labels.status]),
      ).toEqual([
        [1, "http_request_duration_ms", "timer", "503"],
        [2, "http_request_duration_ms", "timer", "200"],
      ]);
      expect(points.every((p) => p.value >= 0 && p.time)).toBe(true);
      const { lines } = await cp.clients.runs.getTaskLogs({
        runId,
        taskId: "fetch",
        attempt: 2,
      });
      const response = lines.find((l) => l.message === "http response");
      expect(response?.stream).toBe("log");
      expect(response?.level).toBe("info");
      expect(response?.fields?.status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("deerflow logs prints every attempt, one attempt, or JSON", async () => {
    const all = await runCli(["logs", talkRun, "talk"], env);
    expect(all.code, all.stderr).toBe(0);
    const printed = all.stdout.trimEnd().split("\n");
    expect(printed[0]).toBe("--- attempt 1 ---");
    expect(printed).toContain("--- attempt 2 ---");
    expect(printed.filter((l) => l === "out-3")).toHaveLength(1);
    expect(printed.filter((l) => l === "out-1")).toHaveLength(2);

    const second = await runCli(
      ["logs", talkRun, "talk", "--attempt", "2"],
      env,
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trimEnd().split("\n").sort()).toEqual([
      "err-1",
      "err-2",
      "out-1",
      "out-2",
      "out-3",
    ]);

    const json = await runCli(["logs", talkRun, "talk", "--json"], env);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(parsed).toHaveLength(10);
    expect(parsed.filter((l) => l.message === "out-3")).toEqual([
      expect.objectContaining({ attempt: 2, stream: "stdout" }),
    ]);
    expect(parsed[0]).toHaveProperty("time");
  });

  it("deerflow logs exits 2 for an unknown task or a bad attempt", async () => {
    const missing = await runCli(["logs", talkRun, "other"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("task other of run");
    const bad = await runCli(["logs", talkRun, "talk", "--attempt", "0"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--attempt");
  });

  it("deerflow logs says on stderr when there are no lines, or no such attempt", async () => {
    const beyond = await runCli(
      ["logs", talkRun, "talk", "--attempt", "9"],
      env,
    );
    expect(beyond.code, beyond.stderr).toBe(0);
    expect(beyond.stdout).toBe("");
    expect(beyond.stderr).toBe(
      `task talk of run ${talkRun} has no attempt 9 (it has had 2)\n`,
    );

    const quiet = await startInline(cp.clients, {
      name: "quiet",
      tasks: [{ id: "hush", type: "shell", command: "true" }],
    });
    await waitForRun(cp.clients, quiet);
    for (const follow of [[], ["-f"]]) {
      const none = await runCli(["logs", quiet, "hush", ...follow], env);
      expect(none.code, none.stderr).toBe(0);
      expect(none.stdout).toBe("");
      expect(none.stderr).toBe(`no log lines for task hush of run ${quiet}\n`);
    }
  });
});
