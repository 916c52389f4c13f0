import type { ConfigValue, Text } from "../config-value.js";
import type { Expression } from "../expression.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The HTTP methods an `http` task may use. */
export type HttpMethod =
  | "GET"
  | "HEAD"
  | "POST"
  | "PUT"
  | "PATCH"
  | "DELETE"
  | "OPTIONS";

/** The config of an `http` task (SPEC §6). */
export interface HttpConfig {
  /** Default GET. */
  method?: HttpMethod;
  /** http:// or https://; template values are percent-encoded. */
  url: Text;
  headers?: Record<string, Text>;
  /** A string is sent as-is; an object or list as JSON. */
  body?: ConfigValue;
  /** Seconds to wait for the whole response. */
  timeout?: number | Expression;
  /** Statuses that count as success; default any 2xx. */
  expected_status?: number[];
  /** Default true. */
  follow_redirects?: boolean;
}

/** An `http` task: sends one request; output status, headers, body. */
export class HttpTask extends Task<HttpConfig> {
  constructor(id: string, config: HttpConfig, options?: TaskOptions) {
    super(id, "http", config, options);
  }
}
