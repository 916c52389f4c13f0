import type { ConfigSchema } from "../../plugin-sdk/index.js";

/** Where the driver runs: on the agent, or inside the cluster. */
export type DeployMode = "client" | "cluster";

/** A value of `spark_conf`, written as `--conf key=value`. */
export type SparkConfValue = string | number | boolean;

/** An application argument; numbers and booleans are written as text. */
export type SparkArg = string | number | boolean;

/** The config of a `spark` task, after templates are rendered. */
export interface SparkConfig {
  application: string;
  main_class?: string;
  master: string;
  deploy_mode?: DeployMode;
  name?: string;
  executor_memory?: string;
  executor_cores?: number;
  num_executors?: number;
  driver_memory?: string;
  spark_conf?: Record<string, SparkConfValue>;
  packages?: string[];
  files?: string[];
  py_files?: string[];
  args?: SparkArg[];
  spark_submit?: string;
}

/** "4g", "512m", "2048" (MiB), "1gb": what spark-submit takes for memory. */
export const MEMORY_PATTERN = "^[0-9]+([kKmMgGtTpP][bB]?)?$";

/** A conf key: no `=` and no white space, so `key=value` stays one pair. */
export const CONF_KEY_PATTERN = "^[^=\\s]+$";

/** One entry of a comma-joined list: no comma, no white space. */
export const LIST_ITEM_PATTERN = "^[^,\\s]+$";

const SCALAR = {
  anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }],
};

const memory = (what: string) => ({
  type: "string",
  pattern: MEMORY_PATTERN,
  description: `${what}, as spark-submit takes it: "4g", "512m".`,
});

const list = (what: string) => ({
  type: "array",
  minItems: 1,
  items: { type: "string", pattern: LIST_ITEM_PATTERN },
  description: `${what}; passed joined by commas.`,
});

/** The JSON Schema of {@link SparkConfig}. */
export const sparkConfigSchema: ConfigSchema = {
  type: "object",
  description:
    "Submits a Spark application with spark-submit, records its " +
    "application id and, in cluster mode, follows it to its end.",
  properties: {
    application: {
      type: "string",
      minLength: 1,
      description:
        "The application: a jar or .py file (a local path or a URL the " +
        "cluster can read).",
    },
    main_class: {
      type: "string",
      pattern: "^[A-Za-z_$][A-Za-z0-9_$.]*$",
      description: "The main class of a jar application (--class).",
    },
    master: {
      type: "string",
      minLength: 1,
      description:
        "The master URL: yarn, spark://host:port, mesos://host:port, " +
        "k8s://https://host:port or local[N].",
    },
    deploy_mode: {
      enum: ["client", "cluster"],
      default: "client",
      description:
        "client runs the driver on the agent; cluster runs it in the " +
        "cluster, and the task follows the application until it ends.",
    },
    name: {
      type: "string",
      minLength: 1,
      description: "The application's name (--name).",
    },
    executor_memory: memory("Memory per executor (--executor-memory)"),
    executor_cores: {
      type: "integer",
      minimum: 1,
      description: "Cores per executor (--executor-cores).",
    },
    num_executors: {
      type: "integer",
      minimum: 1,
      description: "Number of executors (--num-executors).",
    },
    driver_memory: memory("Memory of the driver (--driver-memory)"),
    spark_conf: {
      type: "object",
      propertyNames: { type: "string", pattern: CONF_KEY_PATTERN },
      additionalProperties: SCALAR,
      description:
        "Spark properties, each passed as --conf key=value " +
        '(for example {"spark.sql.shuffle.partitions": 200}).',
    },
    packages: list("Maven coordinates of jars to include (--packages)"),
    files: list("Files placed in each executor's directory (--files)"),
    py_files: list(".zip, .egg or .py files for the PYTHONPATH (--py-files)"),
    args: {
      type: "array",
      items: SCALAR,
      description: "Arguments passed to the application, in order.",
    },
    spark_submit: {
      type: "string",
      minLength: 1,
      description:
        "The spark-submit to run, a path or a name on PATH. Default: " +
        "$SPARK_HOME/bin/spark-submit when SPARK_HOME is set, else " +
        "spark-submit on PATH.",
    },
  },
  required: ["application", "master"],
  additionalProperties: false,
};
