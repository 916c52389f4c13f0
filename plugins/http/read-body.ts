import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { DEFAULT_MAX_RESPONSE_BYTES } from "./http-config.js";

/** A body past `max_response_bytes`. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
  readonly code = "response_too_large";

  constructor(maxBytes: number) {
    super(
      `response body is larger than max_response_bytes (${maxBytes} bytes)`,
    );
  }
}

/** What {@link readBody} reads: a response body and its headers. */
export interface BodySource {
  body: Readable;
  /** Lower-case header names. */
  headers: Record<string, string>;
}

/**
 * Reads a response body as UTF-8 text, decompressing gzip, deflate and
 * br, and stops with a BodyTooLargeError as soon as the decompressed
 * text passes `maxBytes` (the rest is never downloaded, and a small
 * compressed body cannot inflate past the limit). The charset parameter
 * is not consulted: non-UTF-8 text comes out garbled.
 */
export async function readBody(
  source: BodySource,
  maxBytes: number = DEFAULT_MAX_RESPONSE_BYTES,
): Promise<string> {
  const encoding = (source.headers["content-encoding"] ?? "").trim();
  const declared = Number(source.headers["content-length"]);
  if (encoding === "" && Number.isFinite(declared) && declared > maxBytes) {
    source.body.destroy();
    throw new BodyTooLargeError(maxBytes);
  }
  const stream = decoded(source.body, encoding.toLowerCase());
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      bytes += buffer.byteLength;
      if (bytes > maxBytes) throw new BodyTooLargeError(maxBytes);
      text += decoder.decode(buffer, { stream: true });
    }
  } finally {
    source.body.destroy();
    if (stream !== source.body) stream.destroy();
  }
  return text + decoder.decode();
}

function decoded(body: Readable, encoding: string): Readable {
  const decompress =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "deflate"
        ? createInflate()
        : encoding === "br"
          ? createBrotliDecompress()
          : undefined;
  if (decompress === undefined) return body;
  body.on("error", (error) => decompress.destroy(error));
  return body.pipe(decompress);
}
