import type {
  PluginSdk,
  TaskContext,
  TaskError,
} from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import type { HttpConfig } from "./http-config.js";
import { RedirectError } from "./send-request.js";

/**
 * Codes of a server certificate that failed verification. Another try
 * meets the same certificate: these fail without retries and point at
 * the settings that fix them.
 */
const CERTIFICATE_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

/** A failed request as the attempt reports it. */
export interface RequestFailure {
  error: TaskError;
  /** Worth another try within the attempt (`retries`). */
  transient: boolean;
}

/**
 * Turns what sending or reading threw into the attempt's error: the
 * task's abort, the request's own timeout (retry class `timeout`), a
 * rejected certificate or a bad redirect (no retries), or a connection
 * failure (retryable).
 */
export function requestError(
  sdk: PluginSdk,
  where: { ctx: TaskContext<HttpConfig>; timeout: AbortSignal | undefined },
  thrown: unknown,
): RequestFailure {
  const { ctx, timeout } = where;
  if (ctx.signal.aborted) {
    return {
      error: abortError(sdk, ctx.signal, "request"),
      transient: false,
    };
  }
  if (timeout?.aborted) {
    const message = `request timed out after ${ctx.config.timeout}s`;
    return {
      error: new sdk.TaskError(message, {
        retryClass: "timeout",
        cause: thrown,
      }),
      transient: true,
    };
  }
  if (thrown instanceof RedirectError) {
    return {
      error: new sdk.NonRetryableError(thrown.message, { cause: thrown }),
      transient: false,
    };
  }
  const code = (thrown as NodeJS.ErrnoException).code;
  if (code !== undefined && CERTIFICATE_CODES.has(code)) {
    const message =
      `TLS: the server's certificate was rejected (${code}: ` +
      `${(thrown as Error).message}); see config.tls.ca and ` +
      "config.tls.server_name";
    return {
      error: new sdk.NonRetryableError(message, { cause: thrown }),
      transient: false,
    };
  }
  const detail = code ?? (thrown as Error).message;
  return {
    error: new sdk.TaskError(`request failed: ${detail}`, { cause: thrown }),
    transient: true,
  };
}
