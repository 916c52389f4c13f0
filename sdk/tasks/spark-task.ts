import type { Text } from "../config-value.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The config of a `spark` task (SPEC §6). */
export interface SparkConfig {
  /** The application: a jar or a .py file. */
  application: Text;
  master?: Text;
  deploy_mode?: "client" | "cluster";
  /** A JVM memory size, for example "4g". */
  executor_memory?: Text;
  executor_cores?: number;
  num_executors?: number;
  spark_conf?: Record<string, Text>;
  args?: Text[];
}

/** A `spark` task: runs spark-submit and records the application id. */
export class SparkTask extends Task<SparkConfig> {
  constructor(id: string, config: SparkConfig, options?: TaskOptions) {
    super(id, "spark", config, options);
  }
}
