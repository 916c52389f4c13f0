import {
  CONF_KEY_PATTERN,
  type DeployMode,
  LIST_ITEM_PATTERN,
  MEMORY_PATTERN,
  type SparkConfig,
} from "./spark-config.js";
import { SparkConfigError } from "./spark-config-error.js";
import { type ClusterManager, clusterManagerOf } from "./spark-master.js";

/** A config checked again after rendering, and what it says. */
export interface SparkSubmission {
  /** The arguments of spark-submit, from `--master` to the last app arg. */
  argv: string[];
  manager: ClusterManager;
  deployMode: DeployMode;
  master: string;
}

const MEMORY = new RegExp(MEMORY_PATTERN);
const CONF_KEY = new RegExp(CONF_KEY_PATTERN);
const LIST_ITEM = new RegExp(LIST_ITEM_PATTERN);

/**
 * Builds the spark-submit arguments from a rendered config. The schema
 * was checked at submit time, but templates are only known now, so each
 * value is checked again; a bad one throws a {@link SparkConfigError}
 * naming its field. The argv is passed to spark-submit as-is, never
 * through a shell, so no value needs quoting.
 */
export function buildSparkSubmission(config: SparkConfig): SparkSubmission {
  const master = requiredString(config.master, "master");
  const manager = clusterManagerOf(master);
  if (manager === undefined) {
    throw new SparkConfigError(
      "config.master",
      `"${master}" is not a master URL spark-submit knows (yarn, ` +
        "spark://, mesos://, k8s://, local)",
    );
  }
  const deployMode = config.deploy_mode ?? "client";
  if (deployMode !== "client" && deployMode !== "cluster") {
    throw new SparkConfigError(
      "config.deploy_mode",
      `must be "client" or "cluster", got ${JSON.stringify(deployMode)}`,
    );
  }
  if (deployMode === "cluster" && manager === "local") {
    throw new SparkConfigError(
      "config.deploy_mode",
      "cluster cannot be used with a local master",
    );
  }
  const argv = ["--master", master, "--deploy-mode", deployMode];
  pushOptions(argv, config);
  argv.push(requiredString(config.application, "application"));
  for (const [i, arg] of (config.args ?? []).entries()) {
    argv.push(scalar(arg, `config.args[${i}]`));
  }
  return { argv, manager, deployMode, master };
}

function pushOptions(argv: string[], config: SparkConfig): void {
  const push = (flag: string, value: string | undefined) => {
    if (value !== undefined) argv.push(flag, value);
  };
  push("--name", optionalString(config.name, "name"));
  push("--class", optionalString(config.main_class, "main_class"));
  push("--executor-memory", memory(config.executor_memory, "executor_memory"));
  push("--executor-cores", count(config.executor_cores, "executor_cores"));
  push("--num-executors", count(config.num_executors, "num_executors"));
  push("--driver-memory", memory(config.driver_memory, "driver_memory"));
  for (const [key, value] of Object.entries(config.spark_conf ?? {})) {
    const field = `config.spark_conf.${key}`;
    if (!CONF_KEY.test(key)) {
      throw new SparkConfigError(field, "a key may hold no = or white space");
    }
    argv.push("--conf", `${key}=${scalar(value, field)}`);
  }
  push("--packages", commaList(config.packages, "packages"));
  push("--files", commaList(config.files, "files"));
  push("--py-files", commaList(config.py_files, "py_files"));
}

function requiredString(value: unknown, key: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new SparkConfigError(`config.${key}`, "must be a non-empty string");
  }
  return value;
}

function optionalString(value: unknown, key: string): string | undefined {
  return value === undefined ? undefined : requiredString(value, key);
}

function memory(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !MEMORY.test(value)) {
    throw new SparkConfigError(
      `config.${key}`,
      `must be a size such as "4g" or "512m", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function count(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new SparkConfigError(
      `config.${key}`,
      `must be a whole number >= 1, got ${JSON.stringify(value)}`,
    );
  }
  return String(value);
}

function commaList(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new SparkConfigError(`config.${key}`, "must be a non-empty list");
  }
  for (const [i, item] of value.entries()) {
    if (typeof item !== "string" || !LIST_ITEM.test(item)) {
      throw new SparkConfigError(
        `config.${key}[${i}]`,
        "must be a string without commas or white space",
      );
    }
  }
  return value.join(",");
}

function scalar(value: unknown, field: string): string {
  if (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  ) {
    return String(value);
  }
  throw new SparkConfigError(field, "must be a string, number or boolean");
}
