import { parseDocument, type YAMLError } from "yaml";

/** A 1-based line and column. */
interface LinePos {
  line: number;
  col: number;
}

import {
  MAX_DEFINITION_TEXT,
  MAX_JSON_DEPTH,
  textNestingDepth,
  tooDeepMessage,
} from "./json-limits.js";
import type { Problem } from "./workflow-definition.js";

/** The result of parsing a definition's text. */
export interface ParsedDefinitionText {
  /** The parsed value; absent when the text has a syntax error. */
  document?: unknown;
  problems: Problem[];
}

/**
 * Parses JSON or YAML text (format guessed when omitted: text whose first
 * non-blank character is `{` is JSON). Syntax errors, and keys repeated
 * in one object, come back as problems with line:column in the message.
 */
export function parseDefinitionText(
  text: string,
  format?: "json" | "yaml",
): ParsedDefinitionText {
  const limit = checkTextLimits(text);
  if (limit) return { problems: [{ taskId: "", field: "", message: limit }] };
  const chosen = format ?? (text.trimStart().startsWith("{") ? "json" : "yaml");
  return chosen === "json" ? parseJson(text) : parseYaml(text);
}

/** Refuses, before parsing, text too large or nested too deep to parse. */
function checkTextLimits(text: string): string | undefined {
  if (text.length > MAX_DEFINITION_TEXT) {
    return `the definition is larger than ${MAX_DEFINITION_TEXT} bytes`;
  }
  if (textNestingDepth(text) > MAX_JSON_DEPTH) {
    return `the definition is ${tooDeepMessage()}`;
  }
  return undefined;
}

function parseYaml(text: string): ParsedDefinitionText {
  // YAML 1.2 core schema: `on`/`yes` stay strings, dates stay strings.
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map(yamlProblem) };
  }
  return { document: doc.toJS({ maxAliasCount: 100 }), problems: [] };
}

function parseJson(text: string): ParsedDefinitionText {
  // The yaml parser, restricted to the JSON schema, locates errors that
  // V8's JSON.parse reports without a position, and finds repeated keys
  // that JSON.parse would silently collapse.
  const located = parseDocument(text, {
    schema: "json",

    uniqueKeys: true,
  }).errors;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { problems: [jsonProblem(text, String(message(error)), located)] };
  }
  const duplicates = located.filter((e) => e.code === "DUPLICATE_KEY");
  if (duplicates.length > 0) return { problems: duplicates.map(yamlProblem) };
  return { document, problems: [] };
}

function jsonProblem(
  text: string,
  v8Message: string,
  located: YAMLError[],
): Problem {
  const atPosition = /^(.*) in JSON at position (\d+)/.exec(v8Message);
  // V8 quotes the whole input after the first clause; drop it.
  const reason = (atPosition?.[1] ?? v8Message).split(', "')[0] ?? "";
  let where: LinePos | undefined;
  if (atPosition?.[2] !== undefined) {
    where = linePosAt(text, Number(atPosition[2]));
  } else {
    where = located[0]?.linePos?.[0] ?? linePosAt(text, text.length);
  }
  return syntaxProblem(where, reason);
}

function yamlProblem(error: YAMLError): Problem {
  // yaml appends " at line L, column C:" and a source excerpt.
  const reason = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "");
  return syntaxProblem(error.linePos?.[0], reason);
}

function syntaxProblem(where: LinePos | undefined, reason: string): Problem {
  const at = where === undefined ? "" : `line ${where.line}:${where.col}: `;
  return { taskId: "", field: "", message: `${at}${reason}` };
}

function linePosAt(text: string, offset: number): LinePos {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const col = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, col };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
