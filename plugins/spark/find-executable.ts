import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";

/**
 * The path of a runnable program: `name` itself when it holds a slash
 * (relative to the agent's working directory), else the first match in
 * the PATH of `env`. Undefined when there is none.
 */
export async function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (name.includes("/")) {
    const path = resolve(name);
    return (await isExecutable(path)) ? path : undefined;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const path = join(dir, name);
    if (await isExecutable(path)) return path;
  }
  return undefined;
}

/**
 * The spark-submit to run: the configured one, else
 * `$SPARK_HOME/bin/spark-submit` when SPARK_HOME is set and has one,
 * else spark-submit on PATH.
 */
export async function findSparkSubmit(
  configured: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (configured !== undefined) return findExecutable(configured, env);
  if (env.SPARK_HOME) {
    const inHome = join(env.SPARK_HOME, "bin", "spark-submit");
    if (await isExecutable(inHome)) return inHome;
  }
  return findExecutable("spark-submit", env);
}

/**
 * Hadoop's yarn CLI: the configured one, else `$HADOOP_HOME/bin/yarn`,
 * else yarn on PATH. A `yarn` on PATH may be the JavaScript package
 * manager of that name; its status checks then fail and are reported as
 * such, which is why HADOOP_HOME is preferred.
 */
export async function findYarn(
  configured: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (configured !== undefined) return findExecutable(configured, env);
  if (env.HADOOP_HOME) {
    const inHome = join(env.HADOOP_HOME, "bin", "yarn");
    if (await isExecutable(inHome)) return inHome;
  }
  return findExecutable("yarn", env);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
