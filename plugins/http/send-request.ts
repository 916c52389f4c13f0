import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TlsOptions } from "./tls-options.js";

/** The most redirects followed before a request fails. */
export const MAX_REDIRECTS = 20;

/** One request, as {@link sendRequest} sends it. */
export interface HttpRequest {
  method: string;
  url: URL;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer | undefined;
  followRedirects: boolean;
  /** Used for every https:// hop. */
  tls: TlsOptions;
  /** Aborting it destroys the connection, also while the body is read. */
  signal: AbortSignal;
  /** Called each time a request (of a redirect chain too) is sent. */
  onSent?(method: string, url: URL): void;
}

/** The response whose body is still to be read. */
export interface HttpResponse {
  /** The URL that answered, after redirects. */
  url: URL;
  status: number;
  statusText: string;
  /** Lower-case names; repeated headers joined by ", ". */
  headers: Record<string, string>;
  body: IncomingMessage;
}

/** Too many redirects, or a redirect to a scheme other than http(s). */
export class RedirectError extends Error {
  override readonly name = "RedirectError";
  readonly code = "bad_redirect";
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin. */
const CREDENTIALS = ["authorization", "cookie", "proxy-authorization"];

/**
 * Sends a request with node:http or node:https (which, unlike fetch in
 * Node 20, take a CA, a client certificate and a server name) on a
 * connection of its own that is closed after the response. Redirects are
 * followed as fetch follows them: 303, and 301/302 after a POST, become
 * a GET without body; credentials are dropped when the origin changes.
 */
export async function sendRequest(request: HttpRequest): Promise<HttpResponse> {
  let { url, method, body } = request;
  let headers = { ...request.headers };
  for (let hops = 0; ; hops++) {
    const response = await requestOnce({
      ...request,
      url,
      method,
      headers,
      body,
    });
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (!request.followRedirects || !REDIRECTS.has(status) || !location) {
      return {
        url,
        status,
        statusText: response.statusMessage ?? "",
        headers: flatHeaders(response),
        body: response,
      };
    }
    response.resume();
    if (hops >= MAX_REDIRECTS) {
      throw new RedirectError(`more than ${MAX_REDIRECTS} redirects`);
    }
    const next = new URL(location, url);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new RedirectError(`redirect to a ${next.protocol} URL`);
    }
    if (
      status === 303 ||
      ((status === 301 || status === 302) && method === "POST")
    ) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
      headers = withoutBodyHeaders(headers);
    }
    if (next.origin !== url.origin) {
      headers = Object.fromEntries(
        Object.entries(headers).filter(([name]) => !CREDENTIALS.includes(name)),
      );
    }
    url = next;
  }
}

function requestOnce(request: HttpRequest): Promise<IncomingMessage> {
  const https = request.url.protocol === "https:";
  const send = https ? httpsRequest : httpRequest;
  const headers = { ...request.headers };
  if (request.body !== undefined) {
    headers["content-length"] = String(request.body.byteLength);
  }
  return new Promise((resolve, reject) => {
    const req = send(
      request.url,
      {
        method: request.method,
        headers,
        // A connection of its own, closed after the response: nothing
        // outlives the attempt, and TLS options never meet a pooled
        // socket made with others.
        agent: false,
        signal: request.signal,
        ...(https ? request.tls : {}),
      },
      (response) => {
        // Errors while the body is read reach its reader; this keeps one
        // that comes before the reader from going unhandled.
        response.on("error", () => {});
        resolve(response);
      },
    );
    req.on("error", reject);
    req.once("finish", () => request.onSent?.(request.method, request.url));
    req.end(request.body);
  });
}

function withoutBodyHeaders(
  headers: Record<string, string>,
): Record<string, string> {
  const kept = { ...headers };
  for (const name of ["content-type", "content-length", "content-encoding"]) {
    delete kept[name];
  }
  return kept;
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}
