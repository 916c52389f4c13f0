/** The agent process: one session to the control plane, attempts in slots. */

export type { Clock } from "../core/index.js";
export { systemClock } from "../core/index.js";
export type { AgentOptions } from "./agent-options.js";
export { AgentSupersededError } from "./agent-superseded-error.js";
export type { CloseOptions } from "./close-options.js";
export type {
  DetectLabelsOptions,
  HostFacts,
  HostResources,
} from "./detect-labels.js";
export { detectLabels, gpuLabels } from "./detect-labels.js";
export type { Gpu, GpuProbe } from "./gpu-probe.js";
export {
  normalizeGpuType,
  nvidiaSmiGpuProbe,
  parseNvidiaSmiCsv,
} from "./gpu-probe.js";
export type { ReconnectPolicy } from "./reconnect-delay.js";
export { defaultReconnectPolicy, reconnectDelayMs } from "./reconnect-delay.js";
export type { RunningAgent } from "./start-agent.js";
export { startAgent } from "./start-agent.js";
