/**
 * Shell constructs that a template value cannot be quoted inside. The
 * lexer skips each as a unit, refusing any template within it; a
 * construct whose extent sh and bash could read differently stops the
 * lexer (`lost`), so that no later template gets a guessed context.
 */
import type { ShellScan } from "./shell-scan.js";

/** Where a construct ends, or why the lexer cannot go on past it. */
export interface Skip {
  /** Index just after the construct, or the text's length. */
  end: number;
  /** Set when the construct is too tangled to follow. */
  lost?: string;
  /** Set when the text ends inside the construct. */
  unterminated?: string;
}

const ARITHMETIC =
  "stands inside an arithmetic expression, which evaluates a value " +
  "instead of taking it as text";

/** Quoting inside these constructs is read differently by sh and bash. */
function tangles(text: string, index: number): boolean {
  const c = text[index];
  if (c === "'" || c === '"' || c === "`" || c === "\\") return true;
  return c === "$" && (text[index + 1] === "(" || text[index + 1] === "{");
}

/** A `` `...` `` command substitution, from its opening backquote. */
export function skipBackquote(scan: ShellScan, start: number): Skip {
  const why =
    "stands inside a `...` command substitution, where backslashes are " +
    "read twice; write $(...) instead";
  const { text } = scan;
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "`") {
      scan.refuseIn(start, i, why);
      return { end: i + 1 };
    }
    i += c === "\\" ? 2 : 1;
  }
  scan.refuseIn(start, text.length, why);
  return { end: text.length, unterminated: "a ` is not closed" };
}

/** A `$'...'` string, from its `$`. */
export function skipDollarSingle(scan: ShellScan, start: number): Skip {
  const { text } = scan;
  const close = text.indexOf("'", start + 2);
  const end = close === -1 ? text.length : close + 1;
  scan.refuseIn(
    start,
    end,
    "stands inside $'...', which sh and bash read differently",
  );
  if (close === -1) {
    return { end, unterminated: "a $' is not closed" };
  }
  if (text.slice(start, end).includes("\\")) {
    return { end, lost: "a $'...' string with a backslash" };
  }
  return { end };
}

/** A `${...}` parameter expansion, from its `$`. */
export function skipParameter(scan: ShellScan, start: number): Skip {
  const why = "stands inside a ${...} parameter expansion";
  const { text } = scan;
  let depth = 1;
  let i = start + 2;
  while (i < text.length) {
    if (text.startsWith("${", i)) {
      depth += 1;
      i += 2;
    } else if (text[i] === "}") {
      depth -= 1;
      i += 1;
      if (depth === 0) {
        scan.refuseIn(start, i, why);
        return { end: i };
      }
    } else if (tangles(text, i) || text[i] === "{") {
      scan.refuseIn(start, i, why);
      return { end: i, lost: "a ${...} expansion with quotes or braces" };
    } else {
      i += 1;
    }
  }
  scan.refuseIn(start, text.length, why);
  return { end: text.length, unterminated: "a ${ is not closed" };
}

/**
 * An arithmetic expansion `$((...))`, or bash's arithmetic command
 * `((...))`, from its first character; `open` is the opener's length.
 * It must end where its parentheses balance with `))`.
 */
export function skipArithmetic(
  scan: ShellScan,
  start: number,
  open: number,
): Skip {
  const { text } = scan;
  let depth = 2;
  let i = start + open;
  while (i < text.length) {
    const c = text[i];
    if (tangles(text, i)) {
      scan.refuseIn(start, i, ARITHMETIC);
      return { end: i, lost: "an arithmetic expression with quotes" };
    }
    if (c === "(") depth += 1;
    if (c === ")") depth -= 1;
    i += 1;
    if (depth === 1 && text[i] === ")") {
      scan.refuseIn(start, i + 1, ARITHMETIC);
      return { end: i + 1 };
    }
    if (depth === 1) {
      scan.refuseIn(start, i, ARITHMETIC);
      return { end: i, lost: "a (( that is not closed by ))" };
    }
  }
  scan.refuseIn(start, text.length, ARITHMETIC);
  return { end: text.length, unterminated: "a (( is not closed" };
}

/** Bash's old arithmetic expansion `$[...]`, from its `$`. */
export function skipBracketArithmetic(scan: ShellScan, start: number): Skip {
  const { text } = scan;
  let depth = 1;
  let i = start + 2;
  while (i < text.length) {
    if (tangles(text, i)) {
      scan.refuseIn(start, i, ARITHMETIC);
      return { end: i, lost: "a $[...] expression with quotes" };
    }
    if (text[i] === "[") depth += 1;
    if (text[i] === "]") depth -= 1;
    i += 1;
    if (depth === 0) {
      scan.refuseIn(start, i, ARITHMETIC);
      return { end: i };
    }
  }
  scan.refuseIn(start, text.length, ARITHMETIC);
  return { end: text.length, unterminated: "a $[ is not closed" };
}
