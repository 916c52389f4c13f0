import { execFile } from "node:child_process";
import type { Labels, PluginSdk } from "../../plugin-sdk/index.js";
import { findSparkSubmit } from "./find-executable.js";

/** A JVM's cold start can be slow; the agent's probe must not hang. */
const VERSION_TIMEOUT_MS = 60_000;

/** "version 3.5.1" in the banner spark-submit --version prints. */
const VERSION = /\bversion\s+(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)/;

/** Options of {@link probeSpark}. */
export interface ProbeSparkOptions {
  /** The spark-submit to probe; default as {@link findSparkSubmit}. */
  sparkSubmit?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The label `spark_version`, read from `spark-submit --version`. Throws
 * the SDK's PluginUnavailableError when spark-submit is not found or does
 * not run, so the agent does not advertise the spark type.
 */
export async function probeSpark(
  sdk: PluginSdk,
  options: ProbeSparkOptions = {},
): Promise<Labels> {
  const env = options.env ?? process.env;
  const path = await findSparkSubmit(options.sparkSubmit, env);
  if (path === undefined) {
    throw new sdk.PluginUnavailableError(
      options.sparkSubmit === undefined
        ? "spark-submit not found (set SPARK_HOME or put it on PATH)"
        : `spark-submit "${options.sparkSubmit}" not found`,
    );
  }
  const { output, error } = await versionOutput(path, env);
  const version = VERSION.exec(output)?.[1];
  if (version === undefined) {
    const why = error ? error.message : "no version in its output";
    throw new sdk.PluginUnavailableError(
      `${path} --version failed: ${why.split("\n")[0]}`,
    );
  }
  return { spark_version: version };
}

/** What `--version` printed; spark-submit writes its banner to stderr. */
function versionOutput(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<{ output: string; error: Error | null }> {
  return new Promise((resolve) => {
    execFile(
      path,
      ["--version"],
      { env, timeout: VERSION_TIMEOUT_MS, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        resolve({ output: `${stdout}\n${stderr}`, error });
      },
    );
  });
}
