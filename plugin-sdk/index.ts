/** The public plugin SDK: what plugin authors import types from. */
export type {
  AllocatedResources,
  BoundTemplate,
  ConfigSchema,
  ExecuteResult,
  JsonObject,
  JsonValue,
  Labels,
  OutputStreams,
  Plugin,
  PluginDefinition,
  ProbeResult,
  TaskContext,
  TaskLogger,
  TaskMetrics,
  TemplateEncoding,
} from "./plugin.js";
export type { PluginFactory, PluginSdk } from "./plugin-sdk.js";
export { definePlugin, pluginSdk } from "./plugin-sdk.js";
export { PluginUnavailableError } from "./plugin-unavailable.js";
export { quantityOverflows, quantityValue } from "./quantity.js";
export type { TaskAbortReason } from "./task-abort.js";
export { TaskAbort } from "./task-abort.js";
export type { RetryClass, TaskErrorOptions } from "./task-error.js";
export { NonRetryableError, TaskError } from "./task-error.js";
