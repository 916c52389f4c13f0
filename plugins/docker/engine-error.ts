/**
 * Reading the errors dockerode rejects with: an HTTP error from the
 * engine carries `statusCode` and the engine's JSON (`json.message`); a
 * connection error carries Node's `code` (ECONNREFUSED, ENOENT, ...).
 */

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "EACCES",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** The engine's HTTP status, when the engine answered at all. */
export function engineStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** The engine's own message when it sent one, else the error's. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (typeof json === "object" && json !== null && "message" in json) {
    const message = (json as { message: unknown }).message;
    if (typeof message === "string" && message !== "") return message;
  }
  if (typeof json === "string" && json.trim() !== "") return json.trim();
  const message = error instanceof Error ? error.message : String(error);
  // dockerode's wording around the engine's message for streamed calls:
  // "(HTTP code 404) unexpected - <engine message> ".
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

/** True when the engine could not be reached (no HTTP answer). */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNREACHABLE.has(code);
}
