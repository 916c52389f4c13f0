import type {
  ExecuteResult,
  JsonObject,
  PluginSdk,
  TaskContext,
  TaskError,
} from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import { type HttpConfig, httpConfigSchema } from "./http-config.js";
import { HttpConfigError } from "./http-config-error.js";
import { type PreparedRequest, prepareRequest } from "./prepare-request.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import { requestError } from "./request-error.js";
import {
  BodyNotJsonError,
  parseBody,
  parseBodyLeniently,
} from "./response-body.js";
import { parseRetryAfter } from "./retry-after.js";
import { type RetryDelayOptions, retryDelayMs } from "./retry-delay.js";
import { type HttpResponse, sendRequest } from "./send-request.js";

/** Options of the http plugin, fixed when the agent loads it. */
export interface HttpPluginOptions extends RetryDelayOptions {
  /** Waits between in-attempt retries; tests inject their own. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Makes an http plugin factory with the given options. */
export function createHttpPlugin(options: HttpPluginOptions = {}) {
  return (sdk: PluginSdk) =>
    sdk.definePlugin<HttpConfig>({
      type: "http",
      version: "1.1.0",
      description: "Sends an HTTP request and records the response.",
      configSchema: httpConfigSchema,
      execute: (ctx) => executeHttp(sdk, options, ctx),
    });
}

/** The built-in `http` task type. */
export const httpPlugin = createHttpPlugin();
export default httpPlugin;

/**
 * Failures worth another try within the attempt: 5xx, 429, a connection
 * that failed and a request that timed out. Kept apart from the retry
 * class, which a bad JSON body shares with a refused connection.
 */
const transient = new WeakSet<Error>();

async function executeHttp(
  sdk: PluginSdk,
  options: HttpPluginOptions,
  ctx: TaskContext<HttpConfig>,
): Promise<ExecuteResult> {
  let request: PreparedRequest;
  try {
    request = await prepareRequest(ctx.config);
  } catch (error) {
    if (!(error instanceof HttpConfigError)) throw error;
    throw new sdk.NonRetryableError(error.message, { cause: error });
  }
  if (ctx.config.tls?.insecure_skip_verify) {
    ctx.log.warn("tls.insecure_skip_verify is set: certificates unchecked");
  }
  const retries = ctx.config.retries ?? 0;
  const sleep = options.sleep ?? abortableSleep;
  for (let retry = 0; ; retry++) {
    try {
      return await sendOnce(sdk, ctx, request);
    } catch (error) {
      const delayMs =
        retry < retries && transient.has(error as Error)
          ? retryDelayMs(retry, (error as TaskError).retryAfterMs, options)
          : undefined;
      if (delayMs === undefined || ctx.signal.aborted) throw error;
      ctx.log.warn("http request failed; retrying", {
        error: (error as Error).message,
        retry: retry + 1,
        retries,
        next_delay_ms: delayMs,
      });
      await sleep(delayMs, ctx.signal);
      if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "request");
    }
  }
}

/** One try: send, read the body, set the output, judge the status. */
async function sendOnce(
  sdk: PluginSdk,
  ctx: TaskContext<HttpConfig>,
  request: PreparedRequest,
): Promise<ExecuteResult> {
  const { config } = ctx;
  const timeout =
    config.timeout === undefined
      ? undefined
      : AbortSignal.timeout(Math.ceil(config.timeout * 1_000));
  const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
  const fail = (thrown: unknown) => {
    const failure = requestError(sdk, { ctx, timeout }, thrown);
    if (failure.transient) transient.add(failure.error);
    return failure.error;
  };
  const started = performance.now();
  const onSent = (method: string, url: URL) =>
    ctx.log.debug("http request sent", { method, origin: url.origin });
  const response = await sendRequest({ ...request, signal, onSent }).catch(
    (error: unknown) => Promise.reject(fail(error)),
  );
  const output: JsonObject = {
    status: response.status,
    headers: response.headers,
  };
  const expected = isExpected(config, response.status);
  let text: string;
  try {
    text = await readBody(response, config.max_response_bytes);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw fail(error);
    ctx.output(output);
    throw expected
      ? new sdk.NonRetryableError(error.message)
      : statusError(sdk, request, response, config.expected_status);
  }
  record(ctx, request, response, performance.now() - started, text);
  const contentType = response.headers["content-type"] ?? "";
  if (!expected) {
    ctx.output({ ...output, body: parseBodyLeniently(text, contentType) });
    throw statusError(sdk, request, response, config.expected_status);
  }
  try {
    ctx.output({ ...output, body: parseBody(text, contentType) });
  } catch (error) {
    if (!(error instanceof BodyNotJsonError)) throw error;
    ctx.output(output);
    throw new sdk.TaskError(error.message, { cause: error });
  }
  return {};
}

/** A metric and a log line per response; the URL's path may hold secrets. */
function record(
  ctx: TaskContext<HttpConfig>,
  request: PreparedRequest,
  response: HttpResponse,
  durationMs: number,
  text: string,
): void {
  const status = String(response.status);
  ctx.metrics.timer("http_request_duration_ms", durationMs, { status });
  ctx.log.info("http response", {
    method: request.method,
    origin: response.url.origin,
    status: response.status,
    duration_ms: Math.round(durationMs),
    body_bytes: Buffer.byteLength(text),
  });
}

function isExpected(config: HttpConfig, status: number): boolean {
  if (config.expected_status === undefined) {
    return status >= 200 && status < 300;
  }
  return config.expected_status.includes(status);
}

/** 5xx and 429 are worth another try; any other surprise is not. */
function statusError(
  sdk: PluginSdk,
  request: PreparedRequest,
  response: HttpResponse,
  expectedStatus: number[] | undefined,
): TaskError {
  const { status } = response;
  const wanted = expectedStatus?.join(", ") ?? "2xx";
  const message =
    `${request.method} returned status ${status} ` +
    `${response.statusText} (expected ${wanted})`;
  const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
  if (status === 429 || status >= 500) {
    const retryClass = status === 429 ? "429" : "5xx";
    const error = new sdk.TaskError(message, { retryClass, retryAfterMs });
    transient.add(error);
    return error;
  }
  return new sdk.NonRetryableError(message);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
