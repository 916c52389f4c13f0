import type {
  ExecuteResult,
  JsonObject,
  JsonValue,
  PluginSdk,
  TaskContext,
} from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import { type HttpConfig, httpConfigSchema } from "./http-config.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import { parseRetryAfter } from "./retry-after.js";

/** The built-in `http` task type. */
export const httpPlugin = (sdk: PluginSdk) =>
  sdk.definePlugin<HttpConfig>({
    type: "http",
    version: "1.0.0",
    description: "Sends an HTTP request and records the response.",
    configSchema: httpConfigSchema,
    execute: (ctx) => executeHttp(sdk, ctx),
  });
export default httpPlugin;

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

async function executeHttp(
  sdk: PluginSdk,
  ctx: TaskContext<HttpConfig>,
): Promise<ExecuteResult> {
  const { config } = ctx;
  const init = requestInit(sdk, config);
  const timeout =
    config.timeout === undefined
      ? undefined
      : AbortSignal.timeout(Math.ceil(config.timeout * 1_000));
  const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
  const fail = (error: unknown) =>
    requestError(sdk, ctx.signal, timeout, config, error);
  const started = performance.now();
  const response = await fetch(config.url, { ...init, signal }).catch(
    (error: unknown) => Promise.reject(fail(error)),
  );
  const output: JsonObject = {
    status: response.status,
    headers: Object.fromEntries(response.headers),
  };
  const expected = isExpected(config, response.status);
  let text: string;
  try {
    text = await readBody(response);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw fail(error);
    ctx.output(output);
    throw expected
      ? new sdk.NonRetryableError(error.message)
      : statusError(sdk, config, response);
  }
  ctx.metrics.timer("http_request_duration_ms", performance.now() - started, {
    status: String(response.status),
  });
  const contentType = response.headers.get("content-type") ?? "";
  if (!expected) {
    ctx.output({ ...output, body: lenientBody(text, contentType) });
    throw statusError(sdk, config, response);
  }
  ctx.output({ ...output, body: strictBody(sdk, text, contentType) });
  return {};
}

function requestInit(sdk: PluginSdk, config: HttpConfig): RequestInit {
  const method = config.method ?? "GET";
  if (!URL.canParse(config.url)) {
    throw new sdk.NonRetryableError("url is not a valid URL");
  }
  let headers: Headers;
  try {
    headers = new Headers(config.headers);
  } catch (error) {
    throw new sdk.NonRetryableError(`headers: ${(error as Error).message}`);
  }
  let body: string | undefined;
  if (config.body !== undefined) {
    if (method === "GET" || method === "HEAD") {
      throw new sdk.NonRetryableError(`body is not allowed with ${method}`);
    }
    if (typeof config.body === "string") {
      body = config.body;
    } else {
      body = JSON.stringify(config.body);
      if (!headers.has("content-type")) {
        headers.set("content-type", "application/json");
      }
    }
  }
  return {
    method,
    headers,
    body,
    redirect: config.follow_redirects === false ? "manual" : "follow",
  };
}

function isExpected(config: HttpConfig, status: number): boolean {
  if (config.expected_status === undefined) {
    return status >= 200 && status < 300;
  }
  return config.expected_status.includes(status);
}

/** 5xx and 429 are worth another attempt; any other surprise is not. */
function statusError(sdk: PluginSdk, config: HttpConfig, response: Response) {
  const { status } = response;
  const wanted = config.expected_status?.join(", ") ?? "2xx";
  const message =
    `${config.method ?? "GET"} returned status ${status} ` +
    `${response.statusText} (expected ${wanted})`;
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  if (status === 429) {
    return new sdk.TaskError(message, { retryClass: "429", retryAfterMs });
  }
  if (status >= 500) {
    return new sdk.TaskError(message, { retryClass: "5xx", retryAfterMs });
  }
  return new sdk.NonRetryableError(message);
}

function requestError(
  sdk: PluginSdk,
  taskSignal: AbortSignal,
  timeout: AbortSignal | undefined,
  config: HttpConfig,
  error: unknown,
) {
  if (taskSignal.aborted) return abortError(sdk, taskSignal, "request");
  if (timeout?.aborted) {
    return new sdk.TaskError(`request timed out after ${config.timeout}s`, {
      retryClass: "timeout",
      cause: error,
    });
  }
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new sdk.TaskError(`request failed: ${detail}`, { cause: error });
}

function strictBody(
  sdk: PluginSdk,
  text: string,
  contentType: string,
): JsonValue {
  if (!JSON_TYPE.test(contentType)) return text;
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new sdk.TaskError(
      `response body is not valid JSON although its content-type is ` +
        `${contentType}: ${(error as Error).message}`,
    );
  }
}

/** For a failed request: the body as JSON if it is, else as text. */
function lenientBody(text: string, contentType: string): JsonValue {
  if (!JSON_TYPE.test(contentType) || text.trim() === "") return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}
