import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "../../plugins/process/index.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
  waitForOutput,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const [pglite] = testBackends();

describe("an agent restarted after SIGKILL", () => {
  let cp: TestControlPlane;
  let dir: string;
  beforeEach(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
    dir = await mkdtemp(join(tmpdir(), "deerflow-leftover-"));
  });
  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stops the processes its killed run left behind", async () => {
    const pidFile = join(dir, "pid");
    const first = await spawnAgent({ serverUrl: cp.url, name: "phoenix" });
    await waitForAgents(cp.clients, ["phoenix"]);
    await startInline(cp.clients, {
      name: "orphan",
      tasks: [
        {
          id: "long",
          type: "shell",
          command: `sleep 300 & echo $! > ${pidFile}; wait`,
        },
      ],
    });
    // The file exists before the shell has written the pid into it.
    const orphan = await pollUntil(() => {
      if (!existsSync(pidFile)) return undefined;
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      return pid > 0 ? pid : undefined;
    }, "the task to start");

    first.kill("SIGKILL");
    await first.exited;
    // Killing the agent does not reach the task's own process group.
    expect(await isProcessAlive(orphan)).toBe(true);

    const second = await spawnAgent({
      serverUrl: cp.url,
      name: "phoenix",
      stateDir: first.stateDir,
    });
    await waitForOutput(second, /stopped processes left by an earlier run/);
    await pollUntil(
      async () => !(await isProcessAlive(orphan)) || undefined,
      "the orphan to stop",
    );
  });
});
