/** What the API server said when a request failed (a metav1 Status). */
export interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
}

/**
 * A failed request to the Kubernetes API, naming the operation, the HTTP
 * status and the Status object's reason and message, for example
 * `create Job "x" in namespace "team-a": 403 Forbidden: jobs.batch is
 * forbidden: ...`. `statusCode` is undefined when no response came.
 */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly operation: string;
  readonly statusCode: number | undefined;
  readonly reason: string | undefined;

  constructor(
    operation: string,
    detail: {
      statusCode?: number;
      reason?: string;
      message: string;
      cause?: unknown;
    },
  ) {
    const status = [detail.statusCode, detail.reason].filter(Boolean);
    super(
      `${operation}: ${status.length > 0 ? `${status.join(" ")}: ` : ""}` +
        detail.message,
      { cause: detail.cause },
    );
    this.operation = operation;
    this.statusCode = detail.statusCode;
    this.reason = detail.reason;
  }

  /** True for failures a later request may not meet (5xx, 429, network). */
  get transient(): boolean {
    const code = this.statusCode;
    return code === undefined || code === 429 || code >= 500;
  }
}

/** Reasons for statuses the API server sends without a Status body. */
const STATUS_REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "AlreadyExists",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

/** Reads a Status out of a response body, if it holds one. */
export function parseStatus(body: unknown): KubeStatus | undefined {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === "" ? undefined : { message: body.slice(0, 500) };
    }
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { code, reason, message } = value as Record<string, unknown>;
  return {
    code: typeof code === "number" ? code : undefined,
    reason: typeof reason === "string" ? reason : undefined,
    message: typeof message === "string" ? message : undefined,
  };
}

/**
 * Turns what a client-node call threw into a KubeApiError: an
 * ApiException (status code and body), a fetch failure (no response), or
 * an abort of the request's signal (`timedOut` says whether its own
 * timeout fired).
 */
export function toKubeApiError(
  operation: string,
  error: unknown,
  timedOut = false,
): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const fields = error as {
    code?: unknown;
    body?: unknown;
    name?: string;
    message?: string;
  };
  if (typeof fields.code === "number" && fields.code >= 100) {
    const status = parseStatus(fields.body);
    return new KubeApiError(operation, {
      statusCode: fields.code,
      reason: status?.reason ?? STATUS_REASONS[fields.code],
      message: status?.message ?? "no Status in the response",
      cause: error,
    });
  }
  if (fields.name === "AbortError" || timedOut) {
    return new KubeApiError(operation, {
      message: timedOut ? "the request timed out" : "the request was aborted",
      cause: error,
    });
  }
  const code = typeof fields.code === "string" ? `${fields.code}: ` : "";
  return new KubeApiError(operation, {
    message: `request failed: ${code}${fields.message ?? String(error)}`,
    cause: error,
  });
}
