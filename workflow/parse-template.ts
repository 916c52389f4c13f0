import { TemplateError } from "./template-error.js";

/** Literal text of a template. */
export interface TemplateText {
  kind: "text";
  text: string;
}

/** One `${...}` of a template. */
export interface TemplateExpression {
  kind: "expression";
  /** The CEL source between `${` and `}`. */
  source: string;
  /** Where `${` starts in the template string. */
  offset: number;
}

/** A piece of a parsed template string. */
export type TemplatePart = TemplateText | TemplateExpression;

/**
 * Splits a string into literal text and `${expr}` parts. `$${` writes a
 * literal `${`. The expression ends at the `}` that closes its `${`,
 * skipping braces inside CEL string literals, map literals and comments.
 * Throws {@link TemplateError} for a `${` that is never closed.
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += "${";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const end = expressionEnd(text, i + 2);
      if (literal !== "") parts.push({ kind: "text", text: literal });
      literal = "";
      parts.push({
        kind: "expression",
        source: text.slice(i + 2, end),
        offset: i,
      });
      i = end + 1;
    } else {
      literal += text[i];
      i += 1;
    }
  }
  if (literal !== "") parts.push({ kind: "text", text: literal });
  return parts;
}

/** True when the string holds at least one `${...}` (not `$${`). */
export function hasTemplate(text: string): boolean {
  return parseTemplate(text).some((part) => part.kind === "expression");
}

/**
 * True when the string holds a `${...}`, or a `${` never closed: either
 * way its author meant a template. For fields that render none.
 */
export function writesTemplate(text: string): boolean {
  try {
    return hasTemplate(text);
  } catch {
    return true;
  }
}

/** The expression when the whole string is exactly one `${expr}`. */
export function soleExpression(text: string): string | undefined {
  const parts = parseTemplate(text);
  const only = parts[0];
  return parts.length === 1 && only?.kind === "expression"
    ? only.source
    : undefined;
}

/** Index of the `}` closing an expression that starts at `start`. */
function expressionEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '"') {
      i = stringLiteralEnd(text, i, start);
    } else if (c === "/" && text[i + 1] === "/") {
      const newline = text.indexOf("\n", i);
      i = newline === -1 ? text.length : newline;
    } else if (c === "{") {
      depth += 1;
    } else if (c === "}") {
      if (depth === 0) return i;
      depth -= 1;
    }
    i += 1;
  }
  throw new TemplateError(
    `template at column ${start - 1} is not closed: "${text.slice(start - 2)}"`,
  );
}

/**
 * Index of the last character of the CEL string literal whose opening
 * quote is at `quote`: single or triple quoted, raw (`r`) or not.
 */
function stringLiteralEnd(text: string, quote: number, start: number) {
  const q = text[quote] ?? "";
  const delimiter = text.startsWith(q.repeat(3), quote) ? q.repeat(3) : q;
  const raw = isRawPrefix(text.slice(Math.max(start, quote - 2), quote));
  let i = quote + delimiter.length;
  while (i < text.length) {
    if (!raw && text[i] === "\\") {
      i += 2;
    } else if (text.startsWith(delimiter, i)) {
      return i + delimiter.length - 1;
    } else {
      i += 1;
    }
  }
  throw new TemplateError(
    `template at column ${start - 1} has a string that is not closed`,
  );
}

/** True when the characters before a quote make a raw string prefix. */
function isRawPrefix(before: string): boolean {
  // r'..', R'..', rb'..', br'..': the prefix letters touch the quote.
  return /(^|[^A-Za-z0-9_])[bB]?[rR]$|(^|[^A-Za-z0-9_])[rR][bB]$/.test(before);
}
