/** The built-in `http` task type. */
export type { HttpConfig, HttpMethod, HttpTlsConfig } from "./http-config.js";
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  HTTP_METHODS,
  httpConfigSchema,
} from "./http-config.js";
export type { HttpPluginOptions } from "./http-plugin.js";
export { createHttpPlugin, httpPlugin } from "./http-plugin.js";
export { BodyTooLargeError, readBody } from "./read-body.js";
export { parseRetryAfter } from "./retry-after.js";
