/**
 * The built-in task types. Each is a plugin factory of exactly the shape a
 * user's plugin module exports by default.
 */
import type { PluginFactory } from "../plugin-sdk/index.js";
import { dockerPlugin } from "./docker/index.js";
import { httpPlugin } from "./http/index.js";
import { kubernetesPlugin } from "./kubernetes/index.js";
import { noopPlugin } from "./noop/index.js";
import { pythonPlugin } from "./python/index.js";
import { shellPlugin } from "./shell/index.js";
import { sparkPlugin } from "./spark/index.js";
import { sqlPlugin } from "./sql/index.js";

export type { DockerConfig, DockerPluginOptions } from "./docker/index.js";
export {
  createDockerPlugin,
  dockerConfigSchema,
  dockerPlugin,
} from "./docker/index.js";
export type { HttpConfig, HttpMethod } from "./http/index.js";
export { httpConfigSchema, httpPlugin } from "./http/index.js";
export type { NoopConfig } from "./noop/index.js";
export { noopConfigSchema, noopPlugin } from "./noop/index.js";
export type { ProcessExit, RunProcessOptions } from "./process/index.js";
export {
  DEFAULT_KILL_GRACE_MS,
  isProcessAlive,
  KILL_GRACE_ENV,
  killProcessTree,
  runProcess,
} from "./process/index.js";
export type { PythonConfig, PythonPluginOptions } from "./python/index.js";
export {
  createPythonPlugin,
  probePython,
  pythonConfigSchema,
  pythonPlugin,
} from "./python/index.js";
export type { ShellConfig, ShellPluginOptions } from "./shell/index.js";
export {
  createShellPlugin,
  shellConfigSchema,
  shellPlugin,
} from "./shell/index.js";

/** Every built-in task type, in the order the agent registers them. */
export const builtinPluginFactories: readonly PluginFactory[] = [
  shellPlugin,
  httpPlugin,
  pythonPlugin,
  noopPlugin,
  sqlPlugin,
  dockerPlugin,
  kubernetesPlugin,
  sparkPlugin,
];
export type {
  KubernetesConfig,
  KubernetesPluginOptions,
} from "./kubernetes/index.js";
export {
  createKubernetesPlugin,
  kubernetesConfigSchema,
  kubernetesPlugin,
} from "./kubernetes/index.js";
export type { SparkConfig } from "./spark/index.js";
export {
  createSparkPlugin,
  sparkConfigSchema,
  sparkPlugin,
} from "./spark/index.js";
export type { SqlConfig, SqlPluginOptions } from "./sql/index.js";
export { createSqlPlugin, sqlConfigSchema, sqlPlugin } from "./sql/index.js";
