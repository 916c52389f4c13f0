import { createHash } from "node:crypto";
import { access, mkdir, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { TaskLogger } from "../../plugin-sdk/index.js";
import { OutputTail, runProcess } from "../process/index.js";
import { acquireBuildLock } from "./build-lock.js";
import type { InterpreterIdentity } from "./interpreter-identity.js";
import type { RequirementSet } from "./requirement-set.js";

/** The environment variable that moves the agent's cache directory. */
export const CACHE_DIR_ENV = "DEERFLOW_CACHE_DIR";

/** The file that marks a virtualenv as completely built. */
const READY_FILE = ".deerflow-ready";
/** How much of pip's output a failure message keeps. */
const PIP_TAIL_BYTES = 2_048;
/** Bumped when the layout of a cached virtualenv changes. */
const CACHE_FORMAT = 1;

/**
 * The agent's cache directory: `$DEERFLOW_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/deerflow`, else `~/.cache/deerflow`.
 */
export function agentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CACHE_DIR_ENV]) return env[CACHE_DIR_ENV];
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "deerflow");
}

/** What a virtualenv is built from. */
export interface VirtualenvSpec {
  /** The interpreter the venv is made with. */
  interpreter: string;
  identity: InterpreterIdentity;
  requirements: RequirementSet;
  /** Absolute directories or URLs for --find-links; none: the index. */
  findLinks: string[];
}

/** Options of {@link ensureVirtualenv}. */
export interface EnsureVirtualenvOptions {
  /** Where virtualenvs are kept: `<agent cache dir>/venvs`. */
  venvsDir: string;
  /** Environment and work directory of python and pip. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborting it stops a build (or the wait for one). */
  signal: AbortSignal;
  killGraceMs: number;
  log: TaskLogger;
  /** pip's output, line by line. */
  onOutput(stream: "stdout" | "stderr", line: string): void;
  /** Lock polling, for tests. Default 250 ms. */
  lockPollMs?: number;
}

/** A virtualenv ready to run in. */
export interface Virtualenv {
  /** Its python executable. */
  python: string;
  dir: string;
  /** The cache key: a hash of the spec. */
  key: string;
  /** False when this call built it. */
  reused: boolean;
}

/** pip (or venv) failed; `output` is the tail of what it printed. */
export class VirtualenvBuildError extends Error {
  override readonly name = "VirtualenvBuildError";
  readonly code = "virtualenv_build_failed";
  readonly output: string;

  constructor(message: string, output: string) {
    super(output === "" ? message : `${message}:\n${output}`);
    this.output = output;
  }
}

/** The build was stopped because the signal aborted. */
export class VirtualenvAbortedError extends Error {
  override readonly name = "VirtualenvAbortedError";
  readonly code = "aborted";
}

/** The cache key of a spec: equal specs share a virtualenv. */
export function virtualenvKey(spec: VirtualenvSpec): string {
  const text = JSON.stringify({
    format: CACHE_FORMAT,
    python: spec.identity,
    requirements: spec.requirements.normalized,
    find_links: spec.findLinks,
  });
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * The virtualenv for a spec: reused when one is built, else built once
 * (`python -m venv`, then `pip install`) under a lock, so concurrent
 * attempts, also of other agents sharing the cache directory, wait for
 * one build instead of racing. A failed or stopped build leaves nothing
 * behind; the next attempt builds afresh.
 */
export async function ensureVirtualenv(
  spec: VirtualenvSpec,
  options: EnsureVirtualenvOptions,
): Promise<Virtualenv> {
  const key = virtualenvKey(spec);
  const dir = join(options.venvsDir, key);
  const venv = { python: venvPython(dir), dir, key };
  const fields = { venv: key };
  if (await isReady(dir)) {
    options.log.info("virtualenv reused", fields);
    return { ...venv, reused: true };
  }
  await mkdir(options.venvsDir, { recursive: true });
  const lock = await acquireBuildLock(join(options.venvsDir, `${key}.lock`), {
    signal: options.signal,
    done: () => isReady(dir),
    onWait: (holder) =>
      options.log.info("virtualenv being built by another attempt; waiting", {
        ...fields,
        holder_pid: holder.pid,
        holder_host: holder.hostname,
      }),
    ...(options.lockPollMs ? { pollMs: options.lockPollMs } : {}),
  });
  if (lock === undefined) {
    if (options.signal.aborted) {
      throw new VirtualenvAbortedError("stopped waiting for the virtualenv");
    }
    options.log.info("virtualenv reused", fields);
    return { ...venv, reused: true };
  }
  try {
    if (await isReady(dir)) {
      options.log.info("virtualenv reused", fields);
      return { ...venv, reused: true };
    }
    await build(spec, venv, options);
    return { ...venv, reused: false };
  } finally {
    await lock.release();
  }
}

async function build(
  spec: VirtualenvSpec,
  venv: { python: string; dir: string; key: string },
  options: EnsureVirtualenvOptions,
): Promise<void> {
  const started = performance.now();
  options.log.info("virtualenv build started", {
    venv: venv.key,
    python: spec.identity.version,
    requirements: spec.requirements.normalized.length,
  });
  await rm(venv.dir, { recursive: true, force: true });
  try {
    await step(options, "python -m venv", spec.interpreter, [
      "-m",
      "venv",
      venv.dir,
    ]);
    await step(options, "pip install", venv.python, pipArgs(spec));
    await writeFile(
      join(venv.dir, READY_FILE),
      `${JSON.stringify({ requirements: spec.requirements.normalized, python: spec.identity })}\n`,
    );
  } catch (error) {
    await rm(venv.dir, { recursive: true, force: true });
    throw error;
  }
  options.log.info("virtualenv built", {
    venv: venv.key,
    duration_ms: Math.round(performance.now() - started),
  });
}

function pipArgs(spec: VirtualenvSpec): string[] {
  const args = ["-m", "pip", "install", "--disable-pip-version-check"];
  args.push("--no-input");
  if (spec.findLinks.length > 0) {
    args.push("--no-index");
    for (const link of spec.findLinks) args.push("--find-links", link);
  }
  return [...args, ...spec.requirements.pipArgs];
}

/** Runs one build step; throws with the tail of its output on failure. */
async function step(
  options: EnsureVirtualenvOptions,
  what: string,
  file: string,
  args: string[],
): Promise<void> {
  const tail = new OutputTail(PIP_TAIL_BYTES);
  const exit = await runProcess({
    file,
    args,
    cwd: options.cwd,
    env: options.env,
    signal: options.signal,
    killGraceMs: options.killGraceMs,
    onStdout: (line) => {
      tail.push(line);
      options.onOutput("stdout", line);
    },
    onStderr: (line) => {
      tail.push(line);
      options.onOutput("stderr", line);
    },
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new VirtualenvBuildError(`${what} could not start (${code})`, "");
  });
  if (exit.aborted) throw new VirtualenvAbortedError(`${what} was stopped`);
  if (exit.exitCode !== 0) {
    throw new VirtualenvBuildError(
      `${what} failed with exit code ${exit.exitCode}`,
      tail.toString(),
    );
  }
}

function venvPython(dir: string): string {
  return process.platform === "win32"
    ? join(dir, "Scripts", "python.exe")
    : join(dir, "bin", "python");
}

/** Built completely, and its python still there. */
async function isReady(dir: string): Promise<boolean> {
  try {
    await access(join(dir, READY_FILE));
    await access(venvPython(dir));
    return true;
  } catch {
    return false;
  }
}
