/** The built-in `noop` task type. */
export type { NoopConfig } from "./noop-config.js";
export { MAX_NOOP_SLEEP_MS, noopConfigSchema } from "./noop-config.js";
export { noopPlugin } from "./noop-plugin.js";
