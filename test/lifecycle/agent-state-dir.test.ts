import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DIR_LOCK_FILE } from "../../core/index.js";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
  waitForOutput,
} from "../support/agent-process.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForRunEnd } from "../support/watch-run.js";

const definition = {
  name: "state-dir",
  tasks: [{ id: "t", type: "shell", command: "true" }],
};

// The lock is the agent's own, before it connects: the control plane's
// database does not enter into it, so one backend (the default) serves.
const embedded = testBackends().filter((b) => b.name === "pglite");

describe.each(embedded)("one agent per --state-dir on $name", (backend) => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("refuses a second agent on the state dir; the first keeps working", async () => {
    const first = await spawnAgent({ serverUrl: cp.url, name: "first" });
    await waitForAgents(cp.clients, ["first"]);
    const second = await spawnAgent({
      serverUrl: cp.url,
      name: "second",
      stateDir: first.stateDir,
    });
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain(
      `--state-dir ${first.stateDir} is in use by process ${first.child.pid}`,
    );
    // Refused before it loaded the id: it never connected.
    const { agents } = await cp.clients.agents.listAgents({
      includeDisconnected: true,
    });
    expect(agents.map((a) => a.name)).toEqual(["first"]);

    const run = await waitForRunEnd(
      cp.clients,
      await startInline(cp.clients, definition),
    );
    expect(run.state, run.error).toBe(RunState.SUCCESS);
    expect(run.tasks[0]?.attempts.map((a) => a.agentName)).toEqual(["first"]);
  });

  it("takes over the lock of a SIGKILLed agent, and frees it on exit", async () => {
    const killed = await spawnAgent({ serverUrl: cp.url, name: "killed" });
    await waitForAgents(cp.clients, ["killed"]);
    const lock = join(killed.stateDir, DIR_LOCK_FILE);
    // Its pid, host name and process token (a UUID made at its start).
    const token = /^[0-9a-f-]{36}$/;
    const killedLock = (await readFile(lock, "utf8")).split("\n");
    expect(killedLock.slice(0, 2)).toEqual([
      String(killed.child.pid),
      hostname(),
    ]);
    expect(killedLock[2]).toMatch(token);
    killed.kill("SIGKILL");
    expect(await killed.exited).toBe("SIGKILL");

    const restarted = await spawnAgent({
      serverUrl: cp.url,
      name: "restarted",
      stateDir: killed.stateDir,
    });
    await waitForAgents(cp.clients, ["restarted"]);
    const restartedLock = (await readFile(lock, "utf8")).split("\n");
    expect(restartedLock.slice(0, 2)).toEqual([
      String(restarted.child.pid),
      hostname(),
    ]);
    expect(restartedLock[2]).toMatch(token);
    expect(restartedLock[2]).not.toBe(killedLock[2]);
    const { agents } = await cp.clients.agents.listAgents({
      includeDisconnected: true,
    });
    // The same agent id, under its new name.
    expect(agents.map((a) => a.name)).toEqual(["restarted"]);

    restarted.kill("SIGTERM");
    expect(await restarted.exited).toBe(0);
    await waitForOutput(restarted, /agent closed/);
    await expect(readFile(lock)).rejects.toThrow(/ENOENT/);
  });
});
