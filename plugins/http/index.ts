/** The built-in `http` task type. */
export type { HttpConfig, HttpMethod } from "./http-config.js";
export { HTTP_METHODS, httpConfigSchema } from "./http-config.js";
export { httpPlugin } from "./http-plugin.js";
export { BodyTooLargeError, MAX_BODY_BYTES, readBody } from "./read-body.js";
export { parseRetryAfter } from "./retry-after.js";
