import { mkdir, open, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type {
  ExecuteResult,
  JsonObject,
  PluginSdk,
  TaskContext,
  TaskError,
} from "../../plugin-sdk/index.js";
import {
  abortError,
  type ProcessExit,
  resolveKillGraceMs,
  runProcess,
  taskEnvironment,
} from "../process/index.js";
import {
  MAX_OUTPUT_FILE_BYTES,
  OutputFileError,
  parseOutputFile,
} from "./output-file.js";
import { type ShellConfig, shellConfigSchema } from "./shell-config.js";

/** Options of the shell plugin, fixed when the agent loads it. */
export interface ShellPluginOptions {
  /**
   * Time between SIGTERM and SIGKILL when an attempt is stopped. Default:
   * `DEERFLOW_KILL_GRACE_MS` from the agent's environment, else 5000.
   */
  killGraceMs?: number;
}

/** Makes a shell plugin factory with the given options. */
export function createShellPlugin(options: ShellPluginOptions = {}) {
  return (sdk: PluginSdk) =>
    sdk.definePlugin<ShellConfig>({
      type: "shell",
      version: "1.0.0",
      description: "Runs a shell command in its own process group.",
      configSchema: shellConfigSchema,
      execute: (ctx) => executeShell(sdk, options, ctx),
    });
}

/** The built-in `shell` task type. */
export const shellPlugin = createShellPlugin();
export default shellPlugin;

async function executeShell(
  sdk: PluginSdk,
  options: ShellPluginOptions,
  ctx: TaskContext<ShellConfig>,
): Promise<ExecuteResult> {
  const { config } = ctx;
  const shell = config.shell ?? "/bin/sh";
  const cwd = await workingDir(sdk, ctx.workDir, config.working_dir);
  const outputPath = await createOutputFile(ctx.workDir);
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "command");
  let exit: ProcessExit;
  try {
    exit = await runProcess({
      file: shell,
      args: ["-c", config.command],
      cwd,
      // Each secret is also a variable of its name ("$NAME"); the
      // config's env wins over a secret of the same name.
      env: taskEnvironment(ctx, {
        ...ctx.secrets,
        ...config.env,
        DEERFLOW_OUTPUT: outputPath,
      }),
      signal: ctx.signal,
      killGraceMs: resolveKillGraceMs(options.killGraceMs),
      onStdout: (line) => ctx.streams.stdout(line),
      onStderr: (line) => ctx.streams.stderr(line),
    });
  } catch (error) {
    throw spawnError(sdk, shell, error);
  }
  if (exit.strayProcessesStopped) {
    ctx.log.warn("command left processes running; they were stopped");
  }
  const output: JsonObject = { exit_code: exit.exitCode };
  if (config.capture_output !== false) {
    output.stdout = exit.stdoutTail;
    output.stderr = exit.stderrTail;
  }
  if (exit.aborted) {
    ctx.output(output);
    throw abortError(sdk, ctx.signal, "command", exit.exitCode);
  }
  return finish(sdk, ctx, exit, output, outputPath);
}

/**
 * Sets the output (what the command wrote, then exit code and tails,
 * which win on a clash) and turns a non-zero exit into a TaskError.
 */
async function finish(
  sdk: PluginSdk,
  ctx: TaskContext<ShellConfig>,
  exit: ProcessExit,
  output: JsonObject,
  outputPath: string,
): Promise<ExecuteResult> {
  let written: JsonObject = {};
  let fileError: TaskError | undefined;
  try {
    written = await readOutputFile(outputPath);
  } catch (error) {
    if (!(error instanceof OutputFileError)) throw error;
    fileError = new sdk.TaskError(error.message, { exitCode: exit.exitCode });
  }
  ctx.output({ ...written, ...output });
  if (exit.exitCode !== 0) {
    if (fileError)
      ctx.log.warn("output file ignored", { error: fileError.message });
    const how =
      exit.signal === null
        ? `exited with code ${exit.exitCode}`
        : `was killed by signal ${exit.signal}`;
    throw new sdk.TaskError(`command ${how}`, {
      exitCode: exit.exitCode,
      retryClass: "error",
    });
  }
  if (fileError) throw fileError;
  return { exitCode: 0 };
}

async function workingDir(
  sdk: PluginSdk,
  workDir: string,
  configured: string | undefined,
): Promise<string> {
  if (configured === undefined) return workDir;
  const dir = resolve(workDir, configured);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new sdk.NonRetryableError(
      `working_dir "${configured}" is not a directory (resolved to ${dir})`,
    );
  }
  return dir;
}

/** An empty file in the work directory, so `>>` into it works too. */
async function createOutputFile(workDir: string): Promise<string> {
  const dir = join(workDir, ".deerflow");
  await mkdir(dir, { recursive: true });
  const path = join(dir, "output");
  await writeFile(path, "");
  return path;
}

async function readOutputFile(path: string): Promise<JsonObject> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch {
    // The command removed the file: it wrote no output.
    return {};
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_OUTPUT_FILE_BYTES) {
      throw new OutputFileError(
        `output file is ${size} bytes, over the ${MAX_OUTPUT_FILE_BYTES} limit`,
      );
    }
    return parseOutputFile(await handle.readFile("utf8"));
  } finally {
    await handle.close();
  }
}

function spawnError(sdk: PluginSdk, shell: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "EACCES") {
    return new sdk.NonRetryableError(
      `shell "${shell}" cannot be run (${code})`,
      { cause: error },
    );
  }
  return new sdk.TaskError(
    `shell "${shell}" failed to start: ${(error as Error).message}`,
    { cause: error },
  );
}
