import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import { isTreeAlive, killProcessTree } from "./kill-process-tree.js";
import { LineSplitter } from "./line-splitter.js";
import { DEFAULT_TAIL_BYTES, OutputTail } from "./output-tail.js";

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  /** The program, looked up on `env.PATH` when it has no slash. */
  file: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborting it stops the whole process group. */
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  onStdout(line: string): void;
  onStderr(line: string): void;
  /** Size of the kept stdout and stderr tails. Default 4 KiB. */
  tailBytes?: number;
}

/** How a process run by {@link runProcess} ended. */
export interface ProcessExit {
  /** The exit code; 128 + the signal number when a signal ended it. */
  exitCode: number;
  /** The signal that ended the leader, if one did. */
  signal: NodeJS.Signals | null;
  /** True when the process group was stopped because `signal` aborted. */
  aborted: boolean;
  /**
   * True when the leader exited but left processes in its group, which
   * were then stopped: nothing a task starts outlives its attempt.
   */
  strayProcessesStopped: boolean;
  stdoutTail: string;
  stderrTail: string;
}

/**
 * Runs a program as the leader of a new process group, streams its stdout
 * and stderr line by line, and resolves when it and everything it started
 * are gone. Rejects only when the program cannot be started (the error
 * keeps Node's `code`, for example ENOENT).
 */
export async function runProcess(
  options: RunProcessOptions,
): Promise<ProcessExit> {
  const tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
  const tails = {
    stdout: new OutputTail(tailBytes),
    stderr: new OutputTail(tailBytes),
  };
  const { child, exited, closed } = spawnLeader(options, tails);
  const pid = await spawned(child);
  const workDir = options.env.DEERFLOW_WORK_DIR;
  const grace = {
    graceMs: options.killGraceMs,
    marker: workDir ? `DEERFLOW_WORK_DIR=${workDir}` : undefined,
  };
  let killing: Promise<void> | undefined;
  const onAbort = () => {
    killing ??= killProcessTree(pid, grace);
  };
  options.signal.addEventListener("abort", onAbort, { once: true });
  if (options.signal.aborted) onAbort();
  const [code, signal] = await exited;
  options.signal.removeEventListener("abort", onAbort);
  const aborted = killing !== undefined;
  let strayProcessesStopped = false;
  if (killing !== undefined) {
    await killing;
  } else if (await isTreeAlive(pid, grace.marker)) {
    strayProcessesStopped = true;
    await killProcessTree(pid, grace);
  }
  await closeStreams(child, closed, options.killGraceMs);
  return {
    exitCode: code ?? 128 + signalNumber(signal),
    signal,
    aborted,
    strayProcessesStopped,
    stdoutTail: tails.stdout.toString(),
    stderrTail: tails.stderr.toString(),
  };
}

/** Starts the program as a group leader and pipes its lines. */
function spawnLeader(
  options: RunProcessOptions,
  tails: { stdout: OutputTail; stderr: OutputTail },
) {
  const child = spawn(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    // A new session and process group, so that the whole tree can be
    // signalled at once and a terminal's signals do not reach it.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve) => child.once("exit", (code, signal) => resolve([code, signal])),
  );
  const closed = new Promise<void>((resolve) => child.once("close", resolve));
  pipeLines(child.stdout, (line) => {
    tails.stdout.push(line);
    options.onStdout(line);
  });
  pipeLines(child.stderr, (line) => {
    tails.stderr.push(line);
    options.onStderr(line);
  });
  return { child, exited, closed };
}

function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      child.off("error", reject);
      // Later errors (a failed kill) are not fatal to the run.
      child.on("error", () => {});
      resolve(child.pid as number);
    });
  });
}

function pipeLines(stream: Readable, onLine: (line: string) => void): void {
  const splitter = new LineSplitter(onLine);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    splitter.end();
  };
  stream.on("data", (chunk: Buffer) => splitter.push(chunk));
  stream.once("end", end);
  stream.once("close", end);
}

/**
 * Waits for stdout and stderr to drain. A process that left the group
 * (setsid) may still hold the pipes open; after the wait they are cut.
 */
async function closeStreams(
  child: ChildProcess,
  closed: Promise<void>,
  waitMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(waitMs, 1_000));
  });
  await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function signalNumber(signal: NodeJS.Signals | null): number {
  if (signal === null) return 0;
  return constants.signals[signal] ?? 0;
}
