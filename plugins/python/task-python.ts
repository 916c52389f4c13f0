import { join, resolve } from "node:path";
import type { PluginSdk, TaskContext } from "../../plugin-sdk/index.js";
import { abortError, taskEnvironment } from "../process/index.js";
import {
  InterpreterError,
  interpreterIdentity,
} from "./interpreter-identity.js";
import type { PythonConfig } from "./python-config.js";
import { PythonConfigError } from "./python-config-error.js";
import { loadRequirementSet } from "./requirement-set.js";
import {
  agentCacheDir,
  ensureVirtualenv,
  VirtualenvAbortedError,
  VirtualenvBuildError,
  type VirtualenvSpec,
} from "./virtualenv-cache.js";

/** Names the version asked for, for a task that asked for one. */
export function versionPrefix(config: PythonConfig): string {
  return config.python_version === undefined
    ? ""
    : `python_version "${config.python_version}" is not on this agent: `;
}

/**
 * The python that runs the task: the interpreter itself, or, with
 * `requirements`, the python of the cached virtualenv that has them.
 */
export async function taskPython(
  sdk: PluginSdk,
  ctx: TaskContext<PythonConfig>,
  interpreter: string,
  options: { cacheDir: string | undefined; killGraceMs: number },
): Promise<string> {
  const { config } = ctx;
  if (config.requirements === undefined) return interpreter;
  const env = taskEnvironment(ctx);
  let spec: VirtualenvSpec;
  try {
    spec = {
      interpreter,
      identity: await interpreterIdentity(interpreter, env),
      requirements: await loadRequirementSet(config.requirements),
      findLinks: findLinks(config.find_links),
    };
  } catch (error) {
    if (error instanceof PythonConfigError) {
      throw new sdk.NonRetryableError(error.message, { cause: error });
    }
    if (error instanceof InterpreterError) {
      throw new sdk.NonRetryableError(
        `${versionPrefix(config)}${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    const venv = await ensureVirtualenv(spec, {
      venvsDir: join(options.cacheDir ?? agentCacheDir(), "venvs"),
      env,
      cwd: ctx.workDir,
      signal: ctx.signal,
      killGraceMs: options.killGraceMs,
      log: ctx.log,
      onOutput: (stream, line) => ctx.streams[stream](line),
    });
    return venv.python;
  } catch (error) {
    if (error instanceof VirtualenvAbortedError || ctx.signal.aborted) {
      throw abortError(sdk, ctx.signal, "python");
    }
    if (error instanceof VirtualenvBuildError) {
      // Another attempt would install the same set the same way.
      throw new sdk.NonRetryableError(
        `installing config.requirements failed: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** `find_links` as pip takes them: URLs as they are, paths made absolute. */
function findLinks(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new PythonConfigError("config.find_links", "must be a list");
  }
  return value.map((link, i) => {
    if (typeof link !== "string" || link.trim() === "") {
      throw new PythonConfigError(
        `config.find_links[${i}]`,
        "must be a non-empty string",
      );
    }
    return link.includes("://") ? link : resolve(link);
  });
}
