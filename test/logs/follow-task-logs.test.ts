import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LogLine, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const BIN = fileURLToPath(new URL("../../bin/deerflow.js", import.meta.url));

/** Prints a line, waits for `marker` to exist, then prints two more. */
const held = (marker: string) =>
  [
    "echo before",
    `while [ ! -e ${marker} ]; do sleep 0.1; done`,
    "echo after-1",
    "echo after-2 >&2",
  ].join("; ");

describe.each(testBackends())("following task logs on $name", (backend) => {
  let cp: TestControlPlane;
  let dir: string;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
    dir = await mkdtemp(join(tmpdir(), "deerflow-follow-"));
    await spawnAgent({ serverUrl: cp.url, name: "worker" });
    await waitForAgents(cp.clients, ["worker"]);
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await stopAllAgents();
    await cp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the held task; resolves once its first line is stored. */
  async function startHeld(name: string): Promise<[string, string]> {
    const marker = join(dir, name);
    const runId = await startInline(cp.clients, {
      name,
      tasks: [{ id: "held", type: "shell", command: held(marker) }],
    });
    await pollUntil(async () => {
      const { lines } = await cp.clients.runs.getTaskLogs({
        runId,
        taskId: "held",
      });
      return lines.length > 0 ? true : undefined;
    }, "the task's first line");
    return [runId, marker];
  }

  it("streams stored lines, then new ones, and ends with the task", async () => {
    const [runId, marker] = await startHeld("api");
    const seen: LogLine[] = [];
    for await (const { lines } of cp.clients.runs.followTaskLogs({
      runId,
      taskId: "held",
    })) {
      seen.push(...lines);
      // Only once the follower has the first line may the task go on.
      if (seen.some((l) => l.message === "before")) {
        await writeFile(marker, "");
      }
    }
    expect(seen.map((l) => l.message).sort()).toEqual([
      "after-1",
      "after-2",
      "before",
    ]);
    expect(seen.map((l) => Number(l.sequence))).toEqual([1, 2, 3]);
    const run = await waitForRun(cp.clients, runId);
    expect(run.tasks.map((t) => TaskState[t.state])).toEqual(["SUCCESS"]);
  });

  it("ends at once for a task or attempt that already ended", async () => {
    const [runId, marker] = await startHeld("done");
    await writeFile(marker, "");
    await waitForRun(cp.clients, runId);
    for (const attempt of [0, 1]) {
      const seen: LogLine[] = [];
      for await (const { lines } of cp.clients.runs.followTaskLogs({
        runId,
        taskId: "held",
        attempt,
      })) {
        seen.push(...lines);
      }
      expect(seen).toHaveLength(3);
    }
  });

  it("refuses a bad request and an unknown task", async () => {
    const follow = async (req: object) => {
      try {
        for await (const _ of cp.clients.runs.followTaskLogs({
          runId: "00000000-0000-4000-8000-000000000000",
          taskId: "held",
          ...req,
        })) {
          // Nothing to read: the call must fail.
        }
      } catch (error) {
        return ConnectError.from(error);
      }
      throw new Error("the follow ended without an error");
    };
    const unknown = await follow({});
    expect(unknown.code).toBe(Code.NotFound);
    const bad = await follow({ afterSequence: 2n });
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/^after_sequence: /);
  });

  it("deerflow logs -f prints lines as the task writes them", async () => {
    const [runId, marker] = await startHeld("cli");
    const child = spawn(
      process.execPath,
      [BIN, "logs", runId, "held", "-f", "--server", cp.url],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    await pollUntil(
      () => (stdout.includes("before\n") ? true : undefined),
      "the CLI to print the first line",
    );
    await writeFile(marker, "");
    expect(await exited, stderr).toBe(0);
    children.delete(child);
    expect(stdout.trimEnd().split("\n")).toEqual([
      "--- attempt 1 ---",
      "before",
      ...(stdout.indexOf("after-1") < stdout.indexOf("after-2")
        ? ["after-1", "after-2"]
        : ["after-2", "after-1"]),
    ]);
  });
});
