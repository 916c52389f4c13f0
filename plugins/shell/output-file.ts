import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";

/** The largest output file read: a bigger one is an error. */
export const MAX_OUTPUT_FILE_BYTES = 1_048_576;

const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const NUMBER_PATTERN = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Why an output file could not be read; names the line when it can. */
export class OutputFileError extends Error {
  override readonly name = "OutputFileError";
}

/**
 * Parses what a command wrote to `$DEERFLOW_OUTPUT`. Text that starts
 * with `{` is one JSON object; anything else is `key=value` lines, where
 * blank lines and lines starting with `#` are skipped and a value that is
 * a JSON number, `true` or `false` becomes that type (else it stays a
 * string, verbatim). An empty file is an empty object.
 */
export function parseOutputFile(text: string): JsonObject {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  if (trimmed.startsWith("{")) return parseJsonObject(text);
  const output: JsonObject = {};
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const equals = line.indexOf("=");
    const key = equals === -1 ? "" : line.slice(0, equals).trim();
    if (!KEY_PATTERN.test(key)) {
      throw new OutputFileError(
        `output file line ${index + 1}: expected key=value with a key ` +
          `matching ${KEY_PATTERN}, got ${JSON.stringify(clip(line))}`,
      );
    }
    if (key === "__proto__") {
      throw new OutputFileError(
        `output file line ${index + 1}: "__proto__" cannot be a key; rename it`,
      );
    }
    output[key] = scalar(line.slice(equals + 1));
  }
  return output;
}

function parseJsonObject(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const where =
      position === undefined ? "" : ` line ${lineAt(text, Number(position))}`;
    throw new OutputFileError(
      `output file${where} is not valid JSON: ${message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OutputFileError("output file must hold one JSON object");
  }
  return value as JsonObject;
}

function scalar(value: string): JsonValue {
  if (value === "true") return true;
  if (value === "false") return false;
  if (NUMBER_PATTERN.test(value)) {
    const number = Number(value);
    if (Number.isFinite(number)) return number;
  }
  return value;
}

/** The 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

function clip(line: string): string {
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
