import { type ChildProcess, spawn } from "node:child_process";

/** How much of a child's output is kept for error messages, in bytes. */
const OUTPUT_TAIL_BYTES = 64 * 1024;

/** A process the harness started, with the tail of what it wrote. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the exit code or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** The last 64 KiB of its stdout and stderr, interleaved. */
  tail(): string;
  /** Calls back with each complete line it writes (stdout and stderr). */
  onLine(listener: (line: string) => void): void;
  /** Sends a signal (default SIGKILL) unless it has ended; waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

const running = new Set<Child>();

/** Starts `node ARGS...` with piped output; the harness reads all of it. */
export function startChild(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Child {
  const child = spawn(process.execPath, args, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start`);
  let tail = "";
  const listeners: ((line: string) => void)[] = [];
  const partial = { stdout: "", stderr: "" };
  const take = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    tail = (tail + text).slice(-OUTPUT_TAIL_BYTES);
    if (listeners.length === 0) return;
    const lines = (partial[stream] + text).split("\n");
    partial[stream] = lines.pop() ?? "";
    for (const line of lines) for (const l of listeners) l(line);
  };
  child.stdout?.on("data", take("stdout"));
  child.stderr?.on("data", take("stderr"));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code ?? 0)),
  );
  const handle: Child = {
    name,
    pid: child.pid,
    process: child,
    exited,
    tail: () => tail,
    onLine: (listener) => listeners.push(listener),
    stop: async (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/**
 * Node flags that run a TypeScript entry file through tsx, resolved from
 * this checkout whatever the working directory.
 */
export function tsxEntry(file: string): string[] {
  return ["--import", import.meta.resolve("tsx"), file];
}

/** Whether the process has not exited yet. */
export function isRunning(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/**
 * SIGKILLs every child still running: the last resort when the harness
 * itself is interrupted.
 */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop("SIGKILL")));
}
