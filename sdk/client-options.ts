import type { Interceptor } from "@connectrpc/connect";
import { SdkError } from "./sdk-error.js";

/** The wire protocols the control plane serves on its one port. */
export type Protocol = "connect" | "grpc" | "grpc-web";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The control plane, e.g. "http://127.0.0.1:7070". Required. */
  baseUrl: string;
  /** Default "connect" (JSON over HTTP); "grpc" and "grpc-web" also work. */
  protocol?: Protocol;
  /** Sent as `authorization: Bearer <token>` with every call. */
  token?: string;
  /**
   * Deadline of each unary call in milliseconds; default 30000, 0 for
   * none. Streams (WatchRun, FollowTaskLogs) get no deadline unless the
   * call passes `timeoutMs`; stop them with a signal.
   */
  timeoutMs?: number;
  /** "2" (default) or "1.1"; gRPC needs HTTP/2. */
  httpVersion?: "1.1" | "2";
  /** More interceptors, run after the one that adds the token. */
  interceptors?: Interceptor[];
}

/** {@link ClientOptions} with defaults filled in and bounds checked. */
export interface ResolvedClientOptions {
  baseUrl: string;
  protocol: Protocol;
  token: string | undefined;
  timeoutMs: number;
  httpVersion: "1.1" | "2";
  interceptors: Interceptor[];
}

/** The defaults of {@link ClientOptions}, in one place. */
export const CLIENT_DEFAULTS = {
  protocol: "connect",
  timeoutMs: 30_000,
  httpVersion: "2",
} as const;

const PROTOCOLS: readonly Protocol[] = ["connect", "grpc", "grpc-web"];

/** Fills defaults and checks every option; errors name the option. */
export function resolveClientOptions(
  options: ClientOptions,
): ResolvedClientOptions {
  if (typeof options !== "object" || options === null) {
    throw invalid("options", "must be an object with at least baseUrl");
  }
  const protocol = options.protocol ?? CLIENT_DEFAULTS.protocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw invalid(
      "protocol",
      `must be one of ${PROTOCOLS.join(", ")}, not ${JSON.stringify(protocol)}`,
    );
  }
  const httpVersion = options.httpVersion ?? CLIENT_DEFAULTS.httpVersion;
  if (httpVersion !== "1.1" && httpVersion !== "2") {
    throw invalid("httpVersion", `must be "1.1" or "2"`);
  }
  if (protocol === "grpc" && httpVersion !== "2") {
    throw invalid("httpVersion", 'gRPC runs over HTTP/2 only: use "2"');
  }
  return {
    baseUrl: baseUrl(options.baseUrl),
    protocol,
    token: token(options.token),
    timeoutMs: timeoutMs(options.timeoutMs),
    httpVersion,
    interceptors: [...(options.interceptors ?? [])],
  };
}

function baseUrl(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw invalid("baseUrl", 'is required, e.g. "http://127.0.0.1:7070"');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("baseUrl", `${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(
      "baseUrl",
      `must be http:// or https://, not ${url.protocol}`,
    );
  }
  return value.replace(/\/+$/, "");
}

function token(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // A header value may not hold line breaks; say so before the wire does.
  if (typeof value !== "string" || value === "" || /[\r\n]/.test(value)) {
    throw invalid("token", "must be a non-empty string without line breaks");
  }
  return value;
}

function timeoutMs(value: unknown): number {
  if (value === undefined) return CLIENT_DEFAULTS.timeoutMs;
  if (Number.isSafeInteger(value) && (value as number) >= 0) {
    return value as number;
  }
  throw invalid(
    "timeoutMs",
    `must be an integer >= 0 (ms), not ${String(value)}`,
  );
}

function invalid(field: string, message: string): SdkError {
  return new SdkError("invalid_option", `${field}: ${message}`, { field });
}
