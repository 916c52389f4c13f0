import type { ConfigSchema, JsonValue } from "../../plugin-sdk/index.js";

/** The HTTP methods an `http` task may use. */
export const HTTP_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The config of an `http` task, after templates are rendered. */
export interface HttpConfig {
  method?: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string | JsonValue[] | { [key: string]: JsonValue };
  /** Seconds. */
  timeout?: number;
  expected_status?: number[];
  follow_redirects?: boolean;
}

/** The JSON Schema of {@link HttpConfig}. */
export const httpConfigSchema: ConfigSchema = {
  type: "object",
  description: "Sends one HTTP request.",
  properties: {
    method: {
      enum: [...HTTP_METHODS],
      default: "GET",
      description: "The request method.",
    },
    url: {
      type: "string",
      pattern: "^https?://",
      "x-encoding": "url",
      description:
        "The http:// or https:// URL. Template values are percent-encoded.",
    },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Request headers.",
    },
    body: {
      anyOf: [{ type: "string" }, { type: "object" }, { type: "array" }],
      description:
        "The request body: a string is sent as-is; an object or array is " +
        "sent as JSON with content-type application/json (unless headers " +
        "set one). Not allowed with GET or HEAD.",
    },
    timeout: {
      type: "number",
      exclusiveMinimum: 0,
      description:
        "Seconds to wait for the whole response; the task's timeout " +
        "applies as well.",
    },
    expected_status: {
      type: "array",
      items: { type: "integer", minimum: 100, maximum: 599 },
      minItems: 1,
      description:
        "Statuses that count as success. Default: any 2xx. Otherwise 5xx " +
        "and 429 fail with retry classes 5xx and 429 (honouring " +
        "Retry-After), and other statuses fail without retries.",
    },
    follow_redirects: {
      type: "boolean",
      default: true,
      description:
        "Whether redirects are followed. When false a 3xx is the response.",
    },
  },
  required: ["url"],
  additionalProperties: false,
};
