import { mkdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  NonRetryableError,
  pluginSdk,
  TaskAbort,
  type TaskAbortReason,
} from "../../plugin-sdk/index.js";
import { type CollectedLine, runPlugin } from "../../plugin-sdk/testing.js";
import { isProcessAlive } from "../process/index.js";
import { createShellPlugin, shellPlugin } from "./shell-plugin.js";

const shell = shellPlugin(pluginSdk);

/** Pids a test saw; killed after it in case an assertion failed early. */
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

function stdout(lines: CollectedLine[]): string[] {
  return lines.filter((l) => l.stream === "stdout").map((l) => l.message);
}

describe("shell plugin", () => {
  it("runs a command and streams its output", async () => {
    const run = await runPlugin(shell, {
      config: { command: "echo hello; echo oops >&2" },
    });
    expect(run.outcome).toBe("success");
    expect(run.exitCode).toBe(0);
    expect(run.output).toEqual({
      exit_code: 0,
      stdout: "hello",
      stderr: "oops",
    });
    expect(stdout(run.lines)).toEqual(["hello"]);
    expect(run.lines).toContainEqual({ stream: "stderr", message: "oops" });
  });

  it("fails with the exit code and still sets the output", async () => {
    const run = await runPlugin(shell, {
      config: { command: "echo partial; exit 3" },
    });
    expect(run.outcome).toBe("failed");
    expect(run.exitCode).toBe(3);
    expect(run.error?.message).toBe("command exited with code 3");
    expect(run.error?.retryClass).toBe("error");
    expect(run.error?.retryable).toBe(true);
    expect(run.output).toMatchObject({ exit_code: 3, stdout: "partial" });
  });

  it("reads a JSON object from $DEERFLOW_OUTPUT", async () => {
    const run = await runPlugin(shell, {
      config: {
        command:
          `echo '{"rows": 42, "files": ["a", "b"]}' ` + `> "$DEERFLOW_OUTPUT"`,
      },
    });
    expect(run.outcome).toBe("success");
    expect(run.output).toMatchObject({ rows: 42, files: ["a", "b"] });
  });

  it("reads key=value lines from $DEERFLOW_OUTPUT with types", async () => {
    const run = await runPlugin(shell, {
      config: {
        command:
          "printf 'rows=42\\nok=true\\nname=alice\\nratio=0.5\\n' " +
          '>> "$DEERFLOW_OUTPUT"; echo "exit_code=99" >> "$DEERFLOW_OUTPUT"',
      },
    });
    expect(run.outcome).toBe("success");
    expect(run.output).toMatchObject({
      rows: 42,
      ok: true,
      name: "alice",
      ratio: 0.5,
      // The real exit code wins over what the command wrote.
      exit_code: 0,
    });
  });

  it("fails on a bad output file, naming the line", async () => {
    const run = await runPlugin(shell, {
      config: { command: `printf 'a=1\\nnot a pair\\n' > "$DEERFLOW_OUTPUT"` },
    });
    expect(run.outcome).toBe("failed");
    expect(run.error?.message).toMatch(
      /output file line 2: expected key=value/,
    );
    expect(run.output).toMatchObject({ exit_code: 0 });
  });

  it("keeps the last 4 KiB of whole lines of stdout", async () => {
    const run = await runPlugin(shell, { config: { command: "seq 1 5000" } });
    const tail = run.output.stdout as string;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(4000);
    const numbers = tail.split("\n").map(Number);
    expect(numbers.at(-1)).toBe(5000);
    // Whole lines only: the tail is a run of consecutive numbers.
    for (const [i, n] of numbers.entries()) {
      expect(n).toBe(5000 - numbers.length + 1 + i);
    }
    expect(stdout(run.lines)).toHaveLength(5000);
  });

  it("merges config env over task env over the agent's env", async () => {
    const run = await runPlugin(shell, {
      config: {
        command: 'echo "$A $B $C"; [ -n "$PATH" ] && echo has-path',
        env: { A: "config" },
      },
      env: { A: "task", B: "task" },
      resources: { cpuMillis: 0, memoryBytes: 0, gpuIndexes: [] },
    });
    expect(stdout(run.lines)).toEqual(["config task ", "has-path"]);
  });

  it("hands allocated GPUs over as CUDA_VISIBLE_DEVICES", async () => {
    const run = await runPlugin(shell, {
      config: { command: 'echo "$CUDA_VISIBLE_DEVICES"' },
      resources: { cpuMillis: 0, memoryBytes: 0, gpuIndexes: [1, 3] },
    });
    expect(stdout(run.lines)).toEqual(["1,3"]);
  });

  it("shows a task no GPU but those it was given, numbered as nvidia-smi does", async () => {
    const echo = 'echo "[$CUDA_VISIBLE_DEVICES] $CUDA_DEVICE_ORDER"';
    const none = await runPlugin(shell, {
      config: { command: echo },
      env: { CUDA_VISIBLE_DEVICES: "0,1" },
    });
    expect(stdout(none.lines)).toEqual(["[] PCI_BUS_ID"]);
    const own = await runPlugin(shell, {
      config: { command: echo, env: { CUDA_VISIBLE_DEVICES: "0,1" } },
      resources: { cpuMillis: 0, memoryBytes: 0, gpuIndexes: [2] },
    });
    expect(stdout(own.lines)).toEqual(["[2] PCI_BUS_ID"]);
  });

  it("runs in working_dir, relative or absolute", async () => {
    let sub = "";
    const relative = await runPlugin(shell, {
      config: { command: "pwd", working_dir: "sub/dir" },
      async setup(workDir) {
        sub = await realpath(workDir).then((dir) => join(dir, "sub", "dir"));
        await mkdir(join(workDir, "sub", "dir"), { recursive: true });
      },
    });
    expect(stdout(relative.lines)).toEqual([sub]);
    const absolute = await runPlugin(shell, {
      config: { command: "pwd", working_dir: "/" },
    });
    expect(stdout(absolute.lines)).toEqual(["/"]);
  });

  it("rejects a missing working_dir as non-retryable", async () => {
    const run = await runPlugin(shell, {
      config: { command: "true", working_dir: "missing" },
    });
    expect(run.error).toBeInstanceOf(NonRetryableError);
    expect(run.error?.message).toMatch(/working_dir "missing"/);
  });

  it("uses the configured shell", async () => {
    const run = await runPlugin(shell, {
      config: { command: "echo $0", shell: "/bin/bash" },
    });
    expect(stdout(run.lines)).toEqual(["/bin/bash"]);
    const missing = await runPlugin(shell, {
      config: { command: "true", shell: "/no/such/shell" },
    });
    expect(missing.error).toBeInstanceOf(NonRetryableError);
    expect(missing.error?.message).toMatch(/"\/no\/such\/shell"/);
  });

  it("leaves stdout and stderr out when capture_output is false", async () => {
    const run = await runPlugin(shell, {
      config: { command: "echo hi", capture_output: false },
    });
    expect(run.output).toEqual({ exit_code: 0 });
    expect(stdout(run.lines)).toEqual(["hi"]);
  });

  it("reports a command killed by a signal", async () => {
    const run = await runPlugin(shell, { config: { command: "kill -9 $$" } });
    expect(run.outcome).toBe("failed");
    expect(run.exitCode).toBe(137);
    expect(run.error?.message).toBe("command was killed by signal SIGKILL");
  });

  it("times out with retry class timeout", async () => {
    const run = await runPlugin(shell, {
      config: { command: "sleep 1000" },
      timeoutMs: 300,
    });
    expect(run.outcome).toBe("timed_out");
    expect(run.error?.retryClass).toBe("timeout");
    expect(run.output.exit_code).toBe(143);
  });

  it("stops background children the command left behind", async () => {
    const run = await runPlugin(shell, {
      config: { command: 'sleep 1000 & echo "bg $!"' },
    });
    const pid = Number(stdout(run.lines)[0]?.split(" ")[1]);
    seenPids.push(pid);
    expect(run.outcome).toBe("success");
    expect(await isProcessAlive(pid)).toBe(false);
    expect(run.lines).toContainEqual(
      expect.objectContaining({ stream: "log", level: "warn" }),
    );
  });
});

describe("shell plugin kill", () => {
  /** Starts a command that prints its pids, aborts once it has. */
  async function abortTree(
    command: string,
    reason: TaskAbortReason,
    killGraceMs: number,
  ) {
    const controller = new AbortController();
    const pids: number[] = [];
    const plugin = createShellPlugin({ killGraceMs })(pluginSdk);
    const run = await runPlugin(plugin, {
      config: { command },
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

  it("kills the whole process tree", async () => {
    const { run, pids } = await abortTree(
      'sleep 1000 & echo "pids $$ $!"; wait',
      "killed",
      5_000,
    );
    expect(run.outcome).toBe("killed");
    expect(run.error?.retryClass).toBe("error");
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await isProcessAlive(pid)).toBe(false);
  });

  it("times out a tree, with SIGKILL for what ignores SIGTERM", async () => {
    const { run, pids } = await abortTree(
      `trap '' TERM; sleep 1000 & echo "pids $$ $!"; wait`,
      "timeout",
      200,
    );
    expect(run.outcome).toBe("timed_out");
    expect(run.error?.retryClass).toBe("timeout");
    expect(run.exitCode).toBe(137);
    for (const pid of pids) expect(await isProcessAlive(pid)).toBe(false);
  });
});
