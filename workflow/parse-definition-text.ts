import {
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  type YAMLError,
} from "yaml";

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
  keepLabelValuesAsWritten(doc.contents, [], text);
  return { document: doc.toJS({ maxAliasCount: 100 }), problems: [] };
}

/**
 * Label and environment values, and a GPU type, are strings; YAML reads
 * `rack: 007` as 7, `cuda: 12.0` as 12 and `id: 0x1F` as 31, which would
 * then select agents labelled "7", "12" and "31". Where a number is such
 * a value and was written otherwise than JavaScript prints it, the text
 * as written is kept.
 */
function keepLabelValuesAsWritten(
  node: Node | null,
  path: readonly (string | number)[],
  text: string,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      keepLabelValuesAsWritten(pair.value as Node | null, [...path, key], text);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      keepLabelValuesAsWritten(item as Node | null, [...path, i], text);
    });
  } else if (
    isScalar(node) &&
    typeof node.value === "number" &&
    node.range &&
    isLabelValue(path)
  ) {
    const written = text.slice(node.range[0], node.range[1]);
    if (written !== String(node.value)) node.value = written;
  }
}

/**
 * Fields whose values are strings: `tasks[i].env.X`,
 * `defaults.node_selector.X`, `tasks[i].resources.gpu.type`...
 */
function isLabelValue(path: readonly (string | number)[]): boolean {
  const at = path[0] === "tasks" ? path.slice(2) : path.slice(1);
  const inTask =
    path[0] === "defaults" ||
    (path[0] === "tasks" && typeof path[1] === "number");
  if (!inTask) return false;
  const [field, ...rest] = at;
  if (field === "node_selector" || field === "env" || field === "labels") {
    return rest.length === 1;
  }
  if (field === "resources") {
    return rest.length === 2 && rest[0] === "gpu" && rest[1] === "type";
  }
  return (
    field === "affinity" &&
    rest.length === 3 &&
    typeof rest[0] === "number" &&
    rest[1] === "values"
  );
}

function parseJson(text: string): ParsedDefinitionText {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // V8's JSON.parse may report no position; the yaml parser, restricted
    // to the JSON schema, locates the error. Only a broken text pays it.
    return {
      problems: [jsonProblem(text, String(message(error)), locate(text))],
    };
  }
  // JSON.parse keeps the last of repeated keys without a word. Fewer keys
  // parsed than written means some were repeated: only then is the text
  // parsed again, slowly, to say where.
  if (keysParsed(document) !== keysWritten(text)) {
    const duplicates = locate(text).filter((e) => e.code === "DUPLICATE_KEY");
    if (duplicates.length > 0) {
      return { problems: duplicates.map(yamlProblem) };
    }
  }
  return { document, problems: [] };
}

function locate(text: string): YAMLError[] {
  return parseDocument(text, { schema: "json", uniqueKeys: true }).errors;
}

/** Object keys in valid JSON text: strings followed by a colon. */
export function keysWritten(text: string): number {
  let keys = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text.charCodeAt(i) !== QUOTE) continue;
    // Skip to the string's closing quote, past escapes.
    i += 1;
    while (text.charCodeAt(i) !== QUOTE) {
      i += text.charCodeAt(i) === BACKSLASH ? 2 : 1;
    }
    let next = i + 1;
    while (isJsonSpace(text.charCodeAt(next))) next += 1;
    if (text.charCodeAt(next) === COLON) keys += 1;
  }
  return keys;
}

/** Object keys in a parsed JSON value, nested ones included. */
export function keysParsed(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) keys += keysParsed(item);
    return keys;
  }
  for (const key in value) {
    keys += 1 + keysParsed((value as Record<string, unknown>)[key]);
  }
  return keys;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
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
