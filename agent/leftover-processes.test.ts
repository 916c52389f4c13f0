import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "../plugins/process/index.js";
import {
  AGENT_ID_ENV,
  AGENT_PID_ENV,
  stopLeftoverProcesses,
} from "./leftover-processes.js";
import { capturedLogger } from "./session-test-kit.js";

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ["-e", ""]);
  if (pid === undefined) throw new Error("no pid from spawnSync");
  return pid;
}

describe.runIf(process.platform === "linux")("stopLeftoverProcesses", () => {
  const children: ChildProcess[] = [];
  const sleeper = (env: Record<string, string>) => {
    const child = spawn("sleep", ["600"], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    children.push(child);
    return child;
  };
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });

  it("stops a dead agent's processes and leaves a live copy's alone", async () => {
    const agentId = randomUUID();
    // A live process standing for another agent with the same id.
    const liveCopy = sleeper({});
    const ofLiveCopy = sleeper({
      [AGENT_ID_ENV]: agentId,
      [AGENT_PID_ENV]: String(liveCopy.pid),
    });
    const ofDeadAgent = sleeper({
      [AGENT_ID_ENV]: agentId,
      [AGENT_PID_ENV]: String(deadPid()),
    });
    const ofOlderAgent = sleeper({ [AGENT_ID_ENV]: agentId });
    const ofOtherId = sleeper({
      [AGENT_ID_ENV]: randomUUID(),
      [AGENT_PID_ENV]: String(deadPid()),
    });
    const { logger, records } = capturedLogger();

    expect(await stopLeftoverProcesses(agentId, logger)).toBe(2);

    expect(await isProcessAlive(ofDeadAgent.pid ?? 0)).toBe(false);
    expect(await isProcessAlive(ofOlderAgent.pid ?? 0)).toBe(false);
    expect(await isProcessAlive(ofLiveCopy.pid ?? 0)).toBe(true);
    expect(await isProcessAlive(ofOtherId.pid ?? 0)).toBe(true);
    expect(records.map((r) => [r.msg, r.processes ?? r.agent_pids])).toEqual([
      ["stopped processes left by an earlier run of this agent", 2],
      [
        "another live process runs attempts as this agent id (a copy of its state dir?): its processes are left alone",
        [liveCopy.pid],
      ],
    ]);
  });
});
