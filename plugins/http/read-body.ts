/** The largest response body kept: 1 MiB. */
export const MAX_BODY_BYTES = 1_048_576;

/** A body past {@link MAX_BODY_BYTES}. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

/**
 * Reads a response body as UTF-8 text, stopping with a BodyTooLargeError
 * as soon as it passes `maxBytes` (the rest is never downloaded). The
 * charset parameter is not consulted: non-UTF-8 text comes out garbled.
 */
export async function readBody(
  response: Response,
  maxBytes: number = MAX_BODY_BYTES,
): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(maxBytes);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function tooLarge(maxBytes: number): BodyTooLargeError {
  return new BodyTooLargeError(
    `response body is larger than the ${maxBytes} byte limit`,
  );
}
