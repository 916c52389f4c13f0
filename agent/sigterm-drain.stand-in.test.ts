import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import { isProcessAlive } from "../plugins/index.js";
import { assignment } from "./session-test-kit.js";
import { StandInControlPlane } from "./stand-in-control-plane.js";

const BIN = fileURLToPath(new URL("../bin/deerflow.js", import.meta.url));

/**
 * A shell task whose tree outlives a plain SIGTERM: a child that ignores
 * TERM (and an exec'd sleep that inherits that), so only the TERM, grace,
 * KILL of the whole process group ends it. It prints both pids.
 */
const STUBBORN_TREE =
  'sh -c \'trap "" TERM; exec sleep 1000\' & echo "started $$ $!"; wait';

describe("a real agent process drained by SIGTERM", () => {
  let controlPlane: StandInControlPlane;
  let dir: string;
  let agent: ChildProcess | undefined;
  let exited: Promise<number | NodeJS.Signals> | undefined;
  let taskPids: number[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-agent-sigterm-test-"));
    controlPlane = await new StandInControlPlane().start();
  });

  afterEach(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill("SIGKILL");
      await exited;
    }
    // Only if the test failed before the agent stopped them.
    for (const pid of taskPids) {
      if (await isProcessAlive(pid)) process.kill(pid, "SIGKILL");
    }
    taskPids = [];
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function spawnAgent(drainGraceMs = 300): ChildProcess {
    const args = [BIN, "agent", "--server", controlPlane.url];
    args.push("--name", "sigterm-agent", "--slots", "1");
    args.push("--state-dir", join(dir, "state"), "--work-dir", dir);
    args.push("--drain-grace-ms", String(drainGraceMs));
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        DEERFLOW_LOG_LEVEL: "info",
        DEERFLOW_KILL_GRACE_MS: "500",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => resolve(signal ?? code ?? 0)),
    );
    return child;
  }

  /**
   * Welcomes the agent's session and has it run STUBBORN_TREE, once both
   * its processes are up (their pids in taskPids).
   */
  async function runningStubbornTree() {
    const session = await controlPlane.nextSession();
    await session.welcome();
    await session.next("credit", (c) => c.freeSlots === 1);
    const task = assignment("shell", { config: { command: STUBBORN_TREE } });
    session.send({ case: "assignment", value: task });
    await session.next("acknowledge");
    const chunk = await session.next("logChunk", (c) =>
      c.lines.some((l) => l.message.startsWith("started ")),
    );
    const line = chunk.lines.find((l) => l.message.startsWith("started "));
    taskPids = String(line?.message).split(" ").slice(1).map(Number);
    return { session, task };
  }

  it("kills what outlives the grace period as a whole tree, reports it LOST, then exits", async () => {
    agent = spawnAgent();
    let logs = "";
    agent.stderr?.on("data", (chunk) => {
      logs += chunk;
    });
    const { session, task } = await runningStubbornTree();
    expect(taskPids).toHaveLength(2);

    agent.kill("SIGTERM");
    await session.next("credit", (c) => c.freeSlots === 0);
    const result = await session.next("result");
    expect(result.lease?.leaseId).toBe(task.lease?.leaseId);
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.retryable).toBe(true);
    expect(result.retryClass).toBe("lost");
    expect(result.error).toMatch(/drain grace period ran out/);
    // The result comes once the attempt has stopped, and the attempt stops
    // once its whole process group is gone.
    for (const pid of taskPids) expect(await isProcessAlive(pid)).toBe(false);

    session.send({
      case: "resultAck",
      value: { lease: task.lease, accepted: true },
    });
    expect(await exited).toBe(0);
    expect(logs).toContain("drain grace period over; killing attempts");
    expect(logs).toContain('"msg":"agent closed"');
  });

  it("tells the control plane of what a second SIGTERM stopped before it exits", async () => {
    agent = spawnAgent(600_000);
    const { session, task } = await runningStubbornTree();

    agent.kill("SIGTERM");
    // Once the agent says it drains: two signals sent before it handles
    // the first would arrive as one.
    await session.next("credit", (c) => c.draining);
    // Draining for ten minutes: the second signal stops the attempt now.
    agent.kill("SIGTERM");
    const result = await session.next("result");
    expect(result.lease?.leaseId).toBe(task.lease?.leaseId);
    expect(result.outcome).toBe(AttemptOutcome.LOST);
    expect(result.error).toBe(
      "killed when the agent was stopped at once (a second signal)",
    );
    for (const pid of taskPids) expect(await isProcessAlive(pid)).toBe(false);
    session.send({
      case: "resultAck",
      value: { lease: task.lease, accepted: true },
    });
    expect(await exited).toBe(130);
  });
});
