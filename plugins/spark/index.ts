/** The built-in `spark` task type. */
export { probeSpark } from "./probe-spark.js";
export type { SparkApplicationStatus } from "./spark-application-status.js";
export type { SparkSubmission } from "./spark-argv.js";
export { buildSparkSubmission } from "./spark-argv.js";
export type { DeployMode, SparkConfig } from "./spark-config.js";
export { sparkConfigSchema } from "./spark-config.js";
export type { ClusterManager } from "./spark-master.js";
export type { SparkIds } from "./spark-output-watcher.js";
export type { SparkPluginOptions } from "./spark-plugin.js";
export { createSparkPlugin, sparkPlugin } from "./spark-plugin.js";
export type {
  CommandLine,
  SparkStatusCommand,
  StatusCommandFactory,
  StatusCommandTarget,
} from "./spark-status-command.js";
export {
  defaultStatusCommand,
  submitStatusCommand,
  yarnStatusCommand,
} from "./spark-status-command.js";
