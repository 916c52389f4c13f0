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

/** TLS settings of an `http` task (https:// URLs only). */
export interface HttpTlsConfig {
  /** PEM text, or the path of a PEM file, of the CAs to trust. */
  ca?: string;
  /** Client certificate (PEM text or path) for mutual TLS. */
  cert?: string;
  /** The client certificate's private key (PEM text or path). */
  key?: string;
  insecure_skip_verify?: boolean;
  server_name?: string;
}

/** Default of `max_response_bytes`: 10 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10_485_760;

/** The largest `max_response_bytes` accepted: 100 MiB. */
export const MAX_RESPONSE_BYTES_LIMIT = 104_857_600;

/** The most in-attempt `retries` accepted. */
export const MAX_RETRIES = 10;

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
  tls?: HttpTlsConfig;
  max_response_bytes?: number;
  retries?: number;
}

const pem = (what: string) => ({
  type: "string",
  minLength: 1,
  description:
    `${what}: PEM text, or the path of a PEM file on the agent ` +
    "(absolute, or relative to the agent's working directory).",
});

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
        "Seconds to wait for the whole response of one try; the task's " +
        "timeout applies as well.",
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
    tls: {
      type: "object",
      description: "TLS settings for https:// URLs.",
      properties: {
        ca: pem("Certificate authorities to trust instead of the system's"),
        cert: pem("Client certificate for mutual TLS (needs key)"),
        key: pem("Private key of the client certificate (needs cert)"),
        insecure_skip_verify: {
          type: "boolean",
          default: false,
          description:
            "Accept any server certificate. For tests only: it gives up " +
            "all protection against a man in the middle.",
        },
        server_name: {
          type: "string",
          minLength: 1,
          description:
            "The name sent as SNI and checked against the server's " +
            "certificate, when it differs from the URL's host.",
        },
      },
      dependentRequired: { cert: ["key"], key: ["cert"] },
      additionalProperties: false,
    },
    max_response_bytes: {
      type: "integer",
      minimum: 1,
      maximum: MAX_RESPONSE_BYTES_LIMIT,
      default: DEFAULT_MAX_RESPONSE_BYTES,
      description:
        "The largest response body read, after decompression; a larger " +
        "one fails the attempt. Default 10 MiB, at most 100 MiB.",
    },
    retries: {
      type: "integer",
      minimum: 0,
      maximum: MAX_RETRIES,
      default: 0,
      description:
        "Extra tries within the attempt after a 5xx, a 429, a connection " +
        "failure or a request timeout, waiting as Retry-After asks (else " +
        "1 s, 2 s, 4 s, ... up to 30 s). A request is sent again as it " +
        "was, so use it for requests that are safe to repeat. The task's " +
        "own retries come after these.",
    },
  },
  required: ["url"],
  additionalProperties: false,
};
