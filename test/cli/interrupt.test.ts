import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import { isProcessAlive } from "../../plugins/index.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import { waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const BIN = fileURLToPath(new URL("../../bin/deerflow.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const [pglite] = testBackends();

/** A `deerflow` process the test signals itself. */
interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | NodeJS.Signals>;
}

const started = new Set<CliProcess>();

function spawnCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (err += d));
  const cli: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: new Promise((resolve) =>
      child.once("exit", (code, signal) => resolve(signal ?? code ?? 0)),
    ),
  };
  started.add(cli);
  void cli.exited.then(() => started.delete(cli));
  return cli;
}

/** A task that starts `sleep 300` in the background and says where. */
function sleepyWorkflow(dir: string): string {
  return [
    "name: sleepy",
    "tasks:",
    "  - id: nap",
    "    type: shell",
    `    command: 'echo "$PWD" > ${dir}/workdir; sleep 300 & echo $! > ${dir}/pid; wait'`,
  ].join("\n");
}

describe("Ctrl-C in the foreground", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-interrupt-"));
  });
  afterEach(async () => {
    for (const cli of started) cli.child.kill("SIGKILL");
    await Promise.all([...started].map((c) => c.exited));
    // Whatever a failed test left running.
    const pid = await readPid(dir);
    if (pid !== undefined && (await isProcessAlive(pid))) {
      process.kill(pid, "SIGKILL");
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("dev FILE stops the task's process tree, removes its work dir and exits 130", async () => {
    const file = join(dir, "sleepy.yaml");
    await writeFile(file, sleepyWorkflow(dir));
    const dataDir = join(dir, "data");
    const cli = spawnCli([
      "dev",
      file,
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
    ]);
    const sleepPid = await pollUntil(() => readPid(dir), "the task's pid");
    const workDir = (await readFile(join(dir, "workdir"), "utf8")).trim();
    expect(existsSync(workDir)).toBe(true);

    cli.child.kill("SIGINT");
    expect(await cli.exited, cli.stderr()).toBe(130);
    expect(await isProcessAlive(sleepPid)).toBe(false);
    expect(existsSync(workDir)).toBe(false);
    // The control plane closed too: its data dir lock is gone.
    expect(existsSync(join(dataDir, "deerflow.lock"))).toBe(false);
  });

  describe("run --wait against a server", () => {
    let cp: TestControlPlane;
    beforeEach(async () => {
      if (!pglite) throw new Error("no PGlite backend");
      cp = await startTestControlPlane(pglite);
      await spawnAgent({ serverUrl: cp.url, name: "interrupt-agent" });
      await waitForAgents(cp.clients, ["interrupt-agent"]);
    });
    afterEach(async () => {
      await stopAllAgents();
      await cp.close();
    });

    it("exits 130 and says the run goes on, and how to cancel it", async () => {
      const file = join(dir, "sleepy.yaml");
      await writeFile(file, sleepyWorkflow(dir));
      const cli = spawnCli(["run", file, "--wait"], {
        DEERFLOW_SERVER: cp.url,
      });
      const sleepPid = await pollUntil(() => readPid(dir), "the task's pid");
      // The task can start before the CLI's own line reaches us.
      const runId = await pollUntil(
        () => /^run (\S+) \(sleepy\) started$/m.exec(cli.stdout())?.[1],
        "the CLI to print the run id",
      );

      cli.child.kill("SIGINT");
      expect(await cli.exited, cli.stderr()).toBe(130);
      expect(cli.stderr()).toContain(
        `run ${runId} goes on on the server (\`deerflow runs cancel ${runId}\` stops it)`,
      );
      const { run } = await cp.clients.runs.getRun({ runId });
      expect(run?.state).toBe(RunState.RUNNING);
      expect(await isProcessAlive(sleepPid)).toBe(true);

      // As the message says: cancelling stops it.
      await cp.clients.runs.cancelRun({ runId, reason: "test over" });
      const ended = await waitForRun(cp.clients, runId as string);
      expect(ended.state).toBe(RunState.CANCELLED);
      await pollUntil(
        async () => ((await isProcessAlive(sleepPid)) ? undefined : true),
        "the cancelled task's sleep to end",
      );
    });
  });
});

async function readPid(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, "pid"), "utf8").catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
