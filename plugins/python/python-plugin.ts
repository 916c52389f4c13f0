import { mkdir, open, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type {
  ExecuteResult,
  JsonValue,
  PluginSdk,
  TaskContext,
} from "../../plugin-sdk/index.js";
import {
  abortError,
  type ProcessExit,
  resolveKillGraceMs,
  runProcess,
  taskEnvironment,
} from "../process/index.js";
import { probePython } from "./probe-python.js";
import { type PythonConfig, pythonConfigSchema } from "./python-config.js";
import { PYTHON_RUNNER_SOURCE, RUNNER_FILE } from "./python-runner-source.js";
import { type RunnerRecord, runnerError } from "./runner-record.js";
import { taskPython, versionPrefix } from "./task-python.js";

/** Options of the python plugin, fixed when the agent loads it. */
export interface PythonPluginOptions {
  /**
   * Time between SIGTERM and SIGKILL when an attempt is stopped. Default:
   * `DEERFLOW_KILL_GRACE_MS` from the agent's environment, else 5000.
   */
  killGraceMs?: number;
  /**
   * The agent's cache directory; virtualenvs go to its `venvs`. Default:
   * `$DEERFLOW_CACHE_DIR`, else `~/.cache/deerflow`.
   */
  cacheDir?: string;
}

/** The largest result file read: 1 MiB of JSON. */
export const MAX_RESULT_BYTES = 1_048_576;

/** Makes a python plugin factory with the given options. */
export function createPythonPlugin(options: PythonPluginOptions = {}) {
  return (sdk: PluginSdk) =>
    sdk.definePlugin<PythonConfig>({
      type: "python",
      version: "1.0.0",
      description: "Calls a Python function and records its return value.",
      configSchema: pythonConfigSchema,
      probe: () => probePython(),
      execute: (ctx) => executePython(sdk, options, ctx),
    });
}

/** The built-in `python` task type. */
export const pythonPlugin = createPythonPlugin();
export default pythonPlugin;

async function executePython(
  sdk: PluginSdk,
  options: PythonPluginOptions,
  ctx: TaskContext<PythonConfig>,
): Promise<ExecuteResult> {
  const interpreter = checkConfig(sdk, ctx.config);
  const files = await writeCall(sdk, ctx);
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "python");
  const python = await taskPython(sdk, ctx, interpreter, {
    cacheDir: options.cacheDir,
    killGraceMs: resolveKillGraceMs(options.killGraceMs),
  });
  let exit: ProcessExit;
  try {
    exit = await runProcess({
      file: python,
      args: ["-u", files.runner, files.call],
      cwd: ctx.workDir,
      // Each secret is also a variable of its name (os.environ["NAME"]).
      env: taskEnvironment(ctx, {
        ...ctx.secrets,
        PYTHONDONTWRITEBYTECODE: "1",
      }),
      signal: ctx.signal,
      killGraceMs: resolveKillGraceMs(options.killGraceMs),
      onStdout: (line) => ctx.streams.stdout(line),
      onStderr: (line) => ctx.streams.stderr(line),
    });
  } catch (error) {
    throw spawnError(sdk, ctx.config, interpreter, error);
  }
  if (exit.strayProcessesStopped) {
    ctx.log.warn("python left processes running; they were stopped");
  }
  if (exit.aborted) throw abortError(sdk, ctx.signal, "python", exit.exitCode);
  const record = await readRecord(sdk, files.result);
  if (record !== undefined && "result" in record) {
    ctx.output({ result: record.result as JsonValue });
    return { exitCode: exit.exitCode };
  }
  throw runnerError(sdk, { record, interpreter, exitCode: exit.exitCode });
}

/** Checks what the schema cannot say clearly; returns the interpreter. */
function checkConfig(sdk: PluginSdk, config: PythonConfig): string {
  if ((config.script === undefined) === (config.code === undefined)) {
    throw new sdk.NonRetryableError("set exactly one of script and code");
  }
  if (config.function === undefined) {
    for (const key of ["args", "kwargs"] as const) {
      if (config[key] !== undefined) {
        throw new sdk.NonRetryableError(`${key} needs function`);
      }
    }
  }
  if (config.python !== undefined && config.python_version !== undefined) {
    throw new sdk.NonRetryableError("set python or python_version, not both");
  }
  if (config.python_version !== undefined) {
    return `python${config.python_version}`;
  }
  return config.python ?? "python3";
}

/** Writes the runner and its call file under `<workDir>/.deerflow`. */
async function writeCall(sdk: PluginSdk, ctx: TaskContext<PythonConfig>) {
  const { config } = ctx;
  const dir = join(ctx.workDir, ".deerflow");
  await mkdir(dir, { recursive: true });
  const files = {
    runner: join(dir, RUNNER_FILE),
    call: join(dir, "python-call.json"),
    result: join(dir, "python-result.json"),
  };
  let script: string | undefined;
  if (config.script !== undefined) {
    // Relative to where the agent runs, as a user who writes
    // "scripts/etl.py" next to the agent expects.
    script = resolve(process.cwd(), config.script);
    const info = await stat(script).catch(() => undefined);
    if (!info?.isFile()) {
      throw new sdk.NonRetryableError(
        `script "${config.script}" is not a file (resolved to ${script})`,
      );
    }
  }
  const call = {
    script,
    code: config.code,
    function: config.function,
    args: config.args ?? [],
    kwargs: config.kwargs ?? {},
    result_path: files.result,
  };
  await writeFile(files.runner, PYTHON_RUNNER_SOURCE);
  await writeFile(files.call, JSON.stringify(call));
  return files;
}

async function readRecord(
  sdk: PluginSdk,
  path: string,
): Promise<RunnerRecord | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_RESULT_BYTES) {
      throw new sdk.NonRetryableError(
        `the result is ${size} bytes of JSON, over the ` +
          `${MAX_RESULT_BYTES} byte limit`,
      );
    }
    return JSON.parse(await handle.readFile("utf8")) as RunnerRecord;
  } finally {
    await handle.close();
  }
}

function spawnError(
  sdk: PluginSdk,
  config: PythonConfig,
  interpreter: string,
  error: unknown,
) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "EACCES") {
    return new sdk.NonRetryableError(
      `${versionPrefix(config)}python interpreter "${interpreter}" ` +
        `not found (${code})`,
      { cause: error },
    );
  }
  return new sdk.TaskError(
    `python interpreter "${interpreter}" failed to start: ` +
      (error as Error).message,
    { cause: error },
  );
}
