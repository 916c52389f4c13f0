import type { JsonValue } from "../../plugin-sdk/index.js";

/** `application/json`, `application/problem+json`, ... */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** A body whose content type says JSON but which does not parse. */
export class BodyNotJsonError extends Error {
  override readonly name = "BodyNotJsonError";
  readonly code = "body_not_json";
}

/**
 * The body as the output carries it: parsed JSON when the content type
 * is JSON (null for an empty body), else the text. A JSON content type
 * with text that does not parse throws a {@link BodyNotJsonError}.
 */
export function parseBody(text: string, contentType: string): JsonValue {
  if (!JSON_TYPE.test(contentType)) return text;
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new BodyNotJsonError(
      `response body is not valid JSON although its content-type is ` +
        `${contentType}: ${(error as Error).message}`,
    );
  }
}

/** For a failed request: the body as JSON if it parses, else as text. */
export function parseBodyLeniently(
  text: string,
  contentType: string,
): JsonValue {
  try {
    return parseBody(text, contentType);
  } catch {
    return text;
  }
}
