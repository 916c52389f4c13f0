import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What curl reported for one request. */
export interface CurlResponse {
  status: number;
  /** As curl's %{http_version}: "1.1" or "2". */
  httpVersion: string;
  contentType: string;
  /** The body as bytes, for enveloped (streaming) responses. */
  bytes: Buffer;
  /** The body as UTF-8 text. */
  body: string;
  /** The body parsed as JSON. */
  json(): Record<string, unknown>;
}

/** Marks the end of the body and the start of curl's write-out. */
const SEPARATOR = "\n--curl-write-out--\n";

/**
 * Runs the real /usr/bin/curl with `args` and the URL. Proxies from the
 * environment are ignored (the tests talk to loopback only), and curl
 * exits non-zero only on transport failure, not on HTTP error codes.
 */
export async function curl(
  url: string,
  args: readonly string[] = [],
): Promise<CurlResponse> {
  const { stdout } = await run(
    "/usr/bin/curl",
    [
      "--silent",
      "--show-error",
      "--noproxy",
      "*",
      "--max-time",
      "60",
      "--write-out",
      `${SEPARATOR}%{http_code} %{http_version} %{content_type}`,
      ...args,
      url,
    ],
    { encoding: "buffer" },
  );
  const at = stdout.lastIndexOf(SEPARATOR);
  const bytes = stdout.subarray(0, at);
  const [status, httpVersion, contentType] = stdout
    .subarray(at + SEPARATOR.length)
    .toString()
    .split(" ");
  const body = bytes.toString();
  return {
    status: Number(status),
    httpVersion: httpVersion ?? "",
    contentType: contentType ?? "",
    bytes,
    body,
    json: () => JSON.parse(body) as Record<string, unknown>,
  };
}

/** Arguments for a Connect unary POST of a JSON message. */
export function connectJsonPost(message: unknown): string[] {
  return [
    "--header",
    "Content-Type: application/json",
    "--data-binary",
    JSON.stringify(message),
  ];
}
