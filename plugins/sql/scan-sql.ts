import type { SqlDialect } from "./connection-target.js";

/** A placeholder the query's author wrote: `$n` or `?`. */
export interface WrittenPlaceholder {
  /** The chunk (text between templates) it stands in. */
  chunk: number;
  offset: number;
  /** PostgreSQL's `n` of `$n`; undefined for MySQL's `?`. */
  number?: number;
}

/** What {@link scanSql} learned about a statement's text. */
export interface SqlScan {
  written: WrittenPlaceholder[];
  /** Where a closing `;` starts in the last chunk, to be cut off. */
  terminator?: number;
}

/** The statement's text cannot be used safely. */
export class SqlTextError extends Error {
  override readonly name = "SqlTextError";
}

type Mode =
  | { kind: "code" }
  | { kind: "quote"; close: string; backslash: boolean; what: string }
  | { kind: "line-comment" }
  | { kind: "block-comment"; depth: number }
  | { kind: "dollar-quote"; delimiter: string };

const CODE: Mode = { kind: "code" };

/** Letters, digits, `_`, `$` and non-ASCII: what names and numbers use. */
const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/**
 * Reads a statement split at its templates (`chunks[i]`, then template
 * `i`, then `chunks[i + 1]`) the way the server's lexer would, as far as
 * quotes, comments and placeholders go. It refuses what would let a
 * value land anywhere but a bind parameter, or a second statement ride
 * along: a template inside a string, quoted name or comment, a template
 * glued to a name or number (`$1` then `2` reads as `$12`), and SQL after
 * a `;`. It also finds the placeholders the author wrote.
 *
 * Known limits, all failing safe because the server parses again and
 * the drivers refuse several statements anyway: MySQL's
 * NO_BACKSLASH_ESCAPES and ANSI_QUOTES modes and PostgreSQL's
 * standard_conforming_strings=off change quoting in ways this lexer
 * does not follow, and MySQL's `/*! ... *\/` comments, which the server
 * runs, are treated as comments.
 */
export function scanSql(
  chunks: readonly string[],
  dialect: SqlDialect,
): SqlScan {
  const scanner = new Scanner(dialect, chunks.length - 1);
  chunks.forEach((text, chunk) => {
    scanner.scanChunk(text, chunk);
    if (chunk < chunks.length - 1) {
      scanner.template(chunk, text, chunks[chunk + 1] ?? "");
    }
  });
  return scanner.finish();
}

class Scanner {
  private mode: Mode = CODE;
  private readonly written: WrittenPlaceholder[] = [];
  private terminator: { chunk: number; offset: number } | undefined;
  private sawCode = false;

  constructor(
    private readonly dialect: SqlDialect,
    private readonly lastChunk: number,
  ) {}

  scanChunk(text: string, chunk: number): void {
    let i = 0;
    while (i < text.length) {
      i =
        this.mode.kind === "code"
          ? this.code(text, chunk, i)
          : this.inside(text, i, this.mode);
    }
  }

  /** The template after `chunk`: it must stand bare, in code. */
  template(chunk: number, before: string, after: string): void {
    const n = chunk + 1;
    if (this.mode.kind !== "code") {
      throw new SqlTextError(
        `template #${n} stands inside ${describe(this.mode)}; write it ` +
          "bare (no quotes): its value is sent as a bind parameter",
      );
    }
    if (WORD.test(before.slice(-1)) || WORD.test(after.slice(0, 1))) {
      throw new SqlTextError(
        `template #${n} touches a name or number; put a space or an ` +
          "operator between them",
      );
    }
    this.codeToken(`template #${n}`);
  }

  finish(): SqlScan {
    if (!this.sawCode) throw new SqlTextError("holds no statement");
    const scan: SqlScan = { written: this.written };
    if (this.terminator !== undefined) {
      scan.terminator = this.terminator.offset;
    }
    return scan;
  }

  /** Reads one token in code; returns where the next one starts. */
  private code(text: string, chunk: number, i: number): number {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (/\s/.test(c)) return i + 1;
    if (c === ";") {
      this.terminator ??= { chunk, offset: i };
      return i + 1;
    }
    if (this.startsLineComment(text, chunk, i)) {
      this.mode = { kind: "line-comment" };
      return i + (c === "#" ? 1 : 2);
    }
    if (c === "/" && next === "*") {
      this.mode = { kind: "block-comment", depth: 1 };
      return i + 2;
    }
    this.codeToken("SQL");
    const quote = this.quoteAt(text, i);
    if (quote !== undefined) {
      this.mode = quote;
      return i + 1;
    }
    if (this.dialect === "mysql") {
      if (c === "?") this.written.push({ chunk, offset: i });
      return i + 1;
    }
    return c === "$" ? this.dollar(text, chunk, i) : i + 1;
  }

  private startsLineComment(text: string, chunk: number, i: number): boolean {
    const c = text.charAt(i);
    if (this.dialect === "mysql" && c === "#") return true;
    if (c !== "-" || text.charAt(i + 1) !== "-") return false;
    if (this.dialect === "postgres") return true;
    // MySQL wants whitespace (or the end) after `--`; `--${x}` is minus
    // minus a value.
    const after = text.charAt(i + 2);
    if (after === "") return chunk === this.lastChunk;
    return /\s/.test(after) || after.charCodeAt(0) < 0x20;
  }

  private quoteAt(text: string, i: number): Mode | undefined {
    const c = text.charAt(i);
    const mysql = this.dialect === "mysql";
    if (c === "'") {
      return {
        kind: "quote",
        close: "'",
        backslash: mysql || this.isEscapeString(text, i),
        what: "a string",
      };
    }
    if (c === '"') {
      return mysql
        ? { kind: "quote", close: '"', backslash: true, what: "a string" }
        : { kind: "quote", close: '"', backslash: false, what: "a name" };
    }
    if (c === "`" && mysql) {
      return { kind: "quote", close: "`", backslash: false, what: "a name" };
    }
    return undefined;
  }

  /** PostgreSQL's E'...' reads backslash escapes. */
  private isEscapeString(text: string, i: number): boolean {
    const prefix = text.charAt(i - 1);
    return (prefix === "E" || prefix === "e") && !WORD.test(text.charAt(i - 2));
  }

  /** PostgreSQL `$`: a `$n` placeholder, a dollar quote, or a name. */
  private dollar(text: string, chunk: number, i: number): number {
    if (WORD.test(text.charAt(i - 1))) return i + 1;
    const digits = /^\$(\d+)/.exec(text.slice(i));
    if (digits !== null) {
      const number = Number(digits[1]);
      this.written.push({ chunk, offset: i, number });
      return i + (digits[0]?.length ?? 1);
    }
    const tag = DOLLAR_TAG.exec(text.slice(i));
    if (tag === null) return i + 1;
    this.mode = { kind: "dollar-quote", delimiter: tag[0] };
    return i + tag[0].length;
  }

  /** Reads inside a quote or comment; returns where to go on. */
  private inside(
    text: string,
    i: number,
    mode: Exclude<Mode, { kind: "code" }>,
  ) {
    const c = text.charAt(i);
    switch (mode.kind) {
      case "quote":
        if (mode.backslash && c === "\\") return i + 2;
        if (c !== mode.close) return i + 1;
        if (text.charAt(i + 1) === mode.close) return i + 2;
        this.mode = CODE;
        return i + 1;
      case "line-comment":
        if (c === "\n" || c === "\r") this.mode = CODE;
        return i + 1;
      case "block-comment":
        return this.blockComment(text, i, mode);
      case "dollar-quote": {
        const end = text.indexOf(mode.delimiter, i);
        if (end === -1) return text.length;
        this.mode = CODE;
        return end + mode.delimiter.length;
      }
    }
  }

  private blockComment(
    text: string,
    i: number,
    mode: { kind: "block-comment"; depth: number },
  ): number {
    const two = text.slice(i, i + 2);
    if (two === "*/") {
      const depth = mode.depth - 1;
      this.mode = depth === 0 ? CODE : { kind: "block-comment", depth };
      return i + 2;
    }
    // PostgreSQL nests block comments; MySQL does not.
    if (two === "/*" && this.dialect === "postgres") {
      this.mode = { kind: "block-comment", depth: mode.depth + 1 };
      return i + 2;
    }
    return i + 1;
  }

  private codeToken(what: string): void {
    if (this.terminator !== undefined) {
      throw new SqlTextError(
        `holds more than one statement (${what} follows a ';'); give ` +
          "each statement its own task",
      );
    }
    this.sawCode = true;
  }
}

function describe(mode: Mode): string {
  switch (mode.kind) {
    case "quote":
      return `${mode.what} (${mode.close}...${mode.close})`;
    case "dollar-quote":
      return `a dollar-quoted string (${mode.delimiter})`;
    default:
      return "a comment";
  }
}
