import {
  HTTP_METHODS,
  type HttpConfig,
  MAX_RESPONSE_BYTES_LIMIT,
  MAX_RETRIES,
} from "./http-config.js";
import { HttpConfigError } from "./http-config-error.js";
import type { HttpRequest } from "./send-request.js";
import { resolveTlsOptions } from "./tls-options.js";

/** A request ready to send but for its signal. */
export type PreparedRequest = Omit<HttpRequest, "signal">;

/** Sent unless the task's headers set them. */
const DEFAULT_HEADERS: Record<string, string> = {
  accept: "*/*",
  "accept-encoding": "gzip, deflate, br",
  "user-agent": "deerflow-http/1",
};

/**
 * Checks the rendered config and builds the request. The schema was
 * checked at submit time, but templates are only known now; a bad value
 * throws an {@link HttpConfigError} naming its field.
 */
export async function prepareRequest(
  config: HttpConfig,
): Promise<PreparedRequest> {
  const method = config.method ?? "GET";
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new HttpConfigError("config.method", `unknown method "${method}"`);
  }
  checkNumbers(config);
  const url = parseUrl(config.url);
  const headers = { ...DEFAULT_HEADERS, ...checkHeaders(config.headers) };
  let body: Buffer | undefined;
  if (config.body !== undefined) {
    if (method === "GET" || method === "HEAD") {
      throw new HttpConfigError("config.body", `not allowed with ${method}`);
    }
    if (typeof config.body === "string") {
      body = Buffer.from(config.body);
    } else {
      body = Buffer.from(JSON.stringify(config.body));
      headers["content-type"] ??= "application/json";
    }
  }
  return {
    method,
    url,
    headers,
    body,
    followRedirects: config.follow_redirects !== false,
    tls: await resolveTlsOptions(config.tls),
  };
}

/** The numbers the schema bounds, checked again once rendered. */
function checkNumbers(config: HttpConfig): void {
  const within = (key: keyof HttpConfig, min: number, max: number) => {
    const value = config[key];
    if (value === undefined) return;
    if (
      !Number.isInteger(value) ||
      (value as number) < min ||
      (value as number) > max
    ) {
      throw new HttpConfigError(
        `config.${key}`,
        `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
  };
  within("max_response_bytes", 1, MAX_RESPONSE_BYTES_LIMIT);
  within("retries", 0, MAX_RETRIES);
  const { timeout } = config;
  if (
    timeout !== undefined &&
    (typeof timeout !== "number" || !(timeout > 0) || !Number.isFinite(timeout))
  ) {
    throw new HttpConfigError(
      "config.timeout",
      `must be a number of seconds > 0, got ${JSON.stringify(timeout)}`,
    );
  }
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HttpConfigError("config.url", "is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new HttpConfigError(
      "config.url",
      "must be an http:// or https:// URL",
    );
  }
  return url;
}

/** The task's headers with lower-case names, checked as fetch checks them. */
function checkHeaders(
  headers: Record<string, string> | undefined,
): Record<string, string> {
  let checked: Headers;
  try {
    checked = new Headers(headers);
  } catch (error) {
    throw new HttpConfigError("config.headers", (error as Error).message);
  }
  return Object.fromEntries(checked);
}
