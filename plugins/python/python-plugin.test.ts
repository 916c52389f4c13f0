import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  NonRetryableError,
  pluginSdk,
  TaskAbort,
  type TaskAbortReason,
} from "../../plugin-sdk/index.js";
import { type CollectedLine, runPlugin } from "../../plugin-sdk/testing.js";
import { isProcessAlive } from "../process/index.js";
import type { PythonConfig } from "./python-config.js";
import { createPythonPlugin, pythonPlugin } from "./python-plugin.js";
import { RUNNER_FILE } from "./python-runner-source.js";

const python = pythonPlugin(pluginSdk);

const seenPids: number[] = [];

afterEach(() => {
  for (const pid of seenPids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone, as it should be.
    }
  }
});

const SCRIPT = `
import os

def add(a, b, scale=1):
    print("adding", a, b)
    return {"sum": (a + b) * scale, "cwd": os.getcwd()}

def fail():
    raise ValueError("bad input")

def odd():
    return {1, 2}

async def later(x):
    return [x, x]
`;

let scriptDir: string;

beforeAll(async () => {
  scriptDir = await mkdtemp(join(tmpdir(), "deerflow-python-test-"));
  await mkdir(join(scriptDir, "tasks"));
  await writeFile(join(scriptDir, "tasks", "job.py"), SCRIPT);
});

afterAll(() => rm(scriptDir, { recursive: true, force: true }));

/** Runs a function of SCRIPT, named by a path relative to the cwd. */
function withScript(config: Omit<PythonConfig, "script">) {
  const script = relative(process.cwd(), join(scriptDir, "tasks", "job.py"));
  return runPlugin(python, { config: { ...config, script } });
}

function stdout(lines: CollectedLine[]): string[] {
  return lines.filter((l) => l.stream === "stdout").map((l) => l.message);
}

describe("python plugin", () => {
  it("calls a script's function with args and kwargs", async () => {
    const run = await withScript({
      function: "add",
      args: [2, 3],
      kwargs: { scale: 10 },
    });
    expect(run.outcome).toBe("success");
    expect(run.output).toEqual({
      result: { sum: 50, cwd: expect.any(String) },
    });
    expect(stdout(run.lines)).toEqual(["adding 2 3"]);
  });

  it("awaits an async function", async () => {
    const run = await withScript({ function: "later", args: ["x"] });
    expect(run.output).toEqual({ result: ["x", "x"] });
  });

  it("returns the variable result of inline code", async () => {
    const run = await runPlugin(python, {
      config: { code: "import math\nprint('hi')\nresult = math.sqrt(16)" },
    });
    expect(run.outcome).toBe("success");
    expect(run.output).toEqual({ result: 4 });
    expect(stdout(run.lines)).toEqual(["hi"]);
  });

  it("returns null when inline code sets no result", async () => {
    const run = await runPlugin(python, { config: { code: "x = 1" } });
    expect(run.output).toEqual({ result: null });
  });

  it("calls a function of inline code", async () => {
    const run = await runPlugin(python, {
      config: {
        code: "def greet(name):\n    return 'hello ' + name",
        function: "greet",
        args: ["ada"],
      },
    });
    expect(run.output).toEqual({ result: "hello ada" });
  });

  it("turns an exception into a TaskError with its traceback", async () => {
    const run = await withScript({ function: "fail" });
    expect(run.outcome).toBe("failed");
    expect(run.error?.retryable).toBe(true);
    expect(run.error?.message).toMatch(/^ValueError: bad input\n/);
    expect(run.error?.message).toMatch(/job\.py", line 9, in fail/);
    // The whole traceback reaches the log as stderr.
    const stderr = run.lines.filter((l) => l.stream === "stderr");
    expect(stderr.at(-1)?.message).toBe("ValueError: bad input");
    // Only the user's frames: the runner's own are not the task's business.
    const everything = `${run.error?.message}\n${stderr.map((l) => l.message).join("\n")}`;
    expect(everything).not.toContain(RUNNER_FILE);
  });

  it("fails clearly on a result that is not JSON", async () => {
    const run = await withScript({ function: "odd" });
    expect(run.error).toBeInstanceOf(NonRetryableError);
    expect(run.error?.message).toMatch(/result \(a set\) cannot be written/);
  });

  it("fails on a missing function or script", async () => {
    const missing = await withScript({ function: "nope" });
    expect(missing.error?.message).toMatch(/function "nope" is not defined/);
    const noScript = await runPlugin(python, {
      config: { script: "nowhere.py", function: "f" },
    });
    expect(noScript.error).toBeInstanceOf(NonRetryableError);
    expect(noScript.error?.message).toMatch(/script "nowhere.py"/);
  });

  it("picks the interpreter by python_version", async () => {
    const run = await runPlugin(python, {
      config: {
        code: "import sys\nresult = '%d.%d' % sys.version_info[:2]",
        python_version: "3.11",
      },
    });
    expect(run.output).toEqual({ result: "3.11" });
  });

  it("names a missing interpreter in a non-retryable error", async () => {
    const run = await runPlugin(python, {
      config: { code: "result = 1", python: "python-not-installed" },
    });
    expect(run.error).toBeInstanceOf(NonRetryableError);
    expect(run.error?.message).toBe(
      'python interpreter "python-not-installed" not found (ENOENT)',
    );
  });

  it("reports a process that exits without a result", async () => {
    const run = await runPlugin(python, {
      config: { code: "import os\nos._exit(4)" },
    });
    expect(run.exitCode).toBe(4);
    expect(run.error?.message).toBe(
      "python exited with code 4 without a result",
    );
  });

  it("probes the default and the versioned interpreters", async () => {
    const labels = await python.probe?.();
    expect(labels?.python).toBe("3.11");
    expect(labels?.python_versions?.split(",")).toContain("3.11");
    // One label per version, for node selectors to match.
    expect(labels?.["python3.11"]).toBe("true");
  });

  it("says so when the python_version asked for is not on the agent", async () => {
    const run = await runPlugin(python, {
      config: { code: "result = 1", python_version: "3.99" },
    });
    expect(run.error).toBeInstanceOf(NonRetryableError);
    expect(run.error?.message).toBe(
      'python_version "3.99" is not on this agent: python interpreter ' +
        '"python3.99" not found (ENOENT)',
    );
  });
});

describe("python plugin kill", () => {
  const CODE = [
    "import os, subprocess, time",
    "child = subprocess.Popen(['sleep', '1000'])",
    "print('pids', os.getpid(), child.pid)",
    "time.sleep(1000)",
  ].join("\n");

  async function abortTree(reason: TaskAbortReason) {
    const controller = new AbortController();
    const pids: number[] = [];
    const plugin = createPythonPlugin({ killGraceMs: 2_000 })(pluginSdk);
    const run = await runPlugin(plugin, {
      config: { code: CODE },
      signal: controller.signal,
      onLine(line) {
        const match = /^pids (\d+) (\d+)$/.exec(line.message);
        if (!match) return;
        pids.push(Number(match[1]), Number(match[2]));
        seenPids.push(...pids);
        controller.abort(new TaskAbort(reason));
      },
    });
    return { run, pids };
  }

  it("kills python and its children", async () => {
    const { run, pids } = await abortTree("killed");
    expect(run.outcome).toBe("killed");
    expect(run.error?.retryClass).toBe("error");
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await isProcessAlive(pid)).toBe(false);
  });

  it("times out with retry class timeout", async () => {
    const { run, pids } = await abortTree("timeout");
    expect(run.outcome).toBe("timed_out");
    expect(run.error?.retryClass).toBe("timeout");
    for (const pid of pids) expect(await isProcessAlive(pid)).toBe(false);
  });
});
