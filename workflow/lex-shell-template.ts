import type { TemplatePart } from "./parse-template.js";
import {
  type Skip,
  skipArithmetic,
  skipBackquote,
  skipBracketArithmetic,
  skipDollarSingle,
  skipParameter,
} from "./shell-constructs.js";
import {
  type Heredoc,
  readHeredocBodies,
  readHeredocOperator,
} from "./shell-heredoc.js";
import { ShellScan, type ShellSlot } from "./shell-scan.js";

/** What {@link lexShellTemplate} found in a shell field. */
export interface ShellTemplateLex {
  /** One slot per template, in order. */
  slots: ShellSlot[];
  /** Set when the command ends inside a quote or other construct. */
  unterminated?: string;
}

/** Unquoted command text: the top level, or inside `$(...)`. */
interface CommandFrame {
  kind: "command";
  /** Inside `$(...)`, which the first unmatched `)` closes. */
  nested: boolean;
  /** `(` opened in this frame and not yet closed. */
  parens: number;
  /** The next character starts a word (so a `#` starts a comment). */
  wordStart: boolean;
  /** Inside a comment, which the next newline ends. */
  comment: boolean;
}

type Frame = CommandFrame | { kind: "single" } | { kind: "double" };

const BACKSLASH =
  "follows a backslash, which would escape the first character of its value";

/**
 * Finds the quoting context of each template in a shell command, with a
 * small lexer for POSIX sh: quotes, backslashes, comments, `$(...)` (a
 * new context inside), here-documents. A template inside a construct
 * where no quoting is safe (a here-document body, `` `...` ``, `${...}`,
 * arithmetic, `$'...'`, right after a backslash) gets a problem instead,
 * and so does every template after text the lexer cannot follow for
 * sure (such as `case` inside `$(...)`), so no context is ever guessed.
 */
export function lexShellTemplate(
  parts: readonly TemplatePart[],
): ShellTemplateLex {
  return new ShellLexer(new ShellScan(parts)).run();
}

class ShellLexer {
  private i = 0;
  private readonly stack: Frame[] = [commandFrame(false)];
  private heredocs: Heredoc[] = [];
  private lost: string | undefined;
  private unterminated: string | undefined;

  constructor(private readonly scan: ShellScan) {}

  run(): ShellTemplateLex {
    const { text } = this.scan;
    while (
      this.i < text.length &&
      this.lost === undefined &&
      this.unterminated === undefined
    ) {
      this.step();
    }
    if (this.lost !== undefined) {
      const why =
        `comes after ${this.lost}, which this check cannot follow, ` +
        "so its quoting is unknown";
      this.scan.refuseIn(this.i, text.length, why);
      return { slots: this.scan.result() };
    }
    const slots = this.scan.result();
    const unterminated = this.unterminated ?? this.openConstruct();
    return unterminated === undefined ? { slots } : { slots, unterminated };
  }

  private step(): void {
    const frame = this.stack[this.stack.length - 1] ?? commandFrame(false);
    if (frame.kind === "single") this.singleStep();
    else if (frame.kind === "double") this.doubleStep();
    else if (this.scan.isTemplate(this.i)) {
      this.scan.place(this.i, frame.comment ? "comment" : "unquoted");
      frame.wordStart = false;
      this.i += 1;
    } else if (frame.comment) this.commentStep(frame);
    else this.commandStep(frame);
  }

  private singleStep(): void {
    if (this.scan.isTemplate(this.i)) this.scan.place(this.i, "single");
    else if (this.scan.text[this.i] === "'") this.stack.pop();
    this.i += 1;
  }

  private doubleStep(): void {
    const c = this.scan.text[this.i];
    if (this.scan.isTemplate(this.i)) {
      this.scan.place(this.i, "double");
      this.i += 1;
    } else if (c === "\\") this.escape();
    else if (c === '"') {
      this.stack.pop();
      this.i += 1;
    } else if (c === "`") this.apply(skipBackquote(this.scan, this.i));
    else if (c === "$") this.dollar(false);
    else this.i += 1;
  }

  private commentStep(frame: CommandFrame): void {
    if (this.scan.text[this.i] === "\n") {
      frame.comment = false;
      this.newline(frame);
    } else {
      this.i += 1;
    }
  }

  /** Characters that separate words or open and close `(`. */
  private commandStep(frame: CommandFrame): void {
    const c = this.scan.text[this.i] ?? "";
    if (c === "\n") this.newline(frame);
    else if (" \t;&|>".includes(c)) {
      frame.wordStart = true;
      this.i += 1;
    } else if (c === "<") this.redirect(frame);
    else if (c === "(") this.openParen(frame);
    else if (c === ")") this.closeParen(frame);
    else if (c === "#" && frame.wordStart) {
      frame.comment = true;
      this.i += 1;
    } else if (frame.nested && frame.wordStart && this.atCaseWord()) {
      // `case x in a) ...` closes no `(`; following its patterns needs a
      // parser of the case grammar, which this lexer does not have.
      this.lost = "a case statement inside $(...)";
    } else this.wordStep(frame, c);
  }

  /** A character inside a word: quotes, escapes, `$`, or plain. */
  private wordStep(frame: CommandFrame, c: string): void {
    if (c === "\\" && this.scan.text[this.i + 1] === "\n") {
      this.i += 2;
      return;
    }
    frame.wordStart = false;
    if (c === "\\") this.escape();
    else if (c === "'" || c === '"') {
      this.stack.push({ kind: c === "'" ? "single" : "double" });
      this.i += 1;
    } else if (c === "`") this.apply(skipBackquote(this.scan, this.i));
    else if (c === "$") this.dollar(true);
    else this.i += 1;
  }

  private escape(): void {
    this.scan.refuseIn(this.i + 1, this.i + 2, BACKSLASH);
    this.i += 2;
  }

  /** A `$`, unquoted or inside `"..."`. */
  private dollar(unquoted: boolean): void {
    const { scan, i } = this;
    const next = scan.text[i + 1];
    if (scan.isTemplate(i + 1)) {
      scan.refuse(i + 1, "follows a $");
      this.i += 2;
    } else if (next === "{") this.apply(skipParameter(scan, i));
    else if (scan.text.startsWith("$((", i)) {
      this.apply(skipArithmetic(scan, i, 3));
    } else if (next === "(") {
      this.stack.push(commandFrame(true));
      this.i += 2;
    } else if (next === "[") this.apply(skipBracketArithmetic(scan, i));
    else if (unquoted && next === "'") this.apply(skipDollarSingle(scan, i));
    else if (unquoted && next === '"') {
      // bash's locale string $"...": read as "..." by sh and bash alike.
      this.stack.push({ kind: "double" });
      this.i += 2;
    } else this.i += 1;
  }

  private newline(frame: CommandFrame): void {
    this.i += 1;
    frame.wordStart = true;
    if (this.heredocs.length === 0) return;
    this.apply(readHeredocBodies(this.scan, this.i, this.heredocs));
    this.heredocs = [];
  }

  private redirect(frame: CommandFrame): void {
    frame.wordStart = true;
    const { text } = this.scan;
    if (text.startsWith("<<<", this.i)) {
      this.i += 3;
    } else if (text.startsWith("<<", this.i)) {
      const operator = readHeredocOperator(this.scan, this.i);
      this.apply(operator);
      if (operator.heredoc !== undefined) this.heredocs.push(operator.heredoc);
    } else {
      this.i += 1;
    }
  }

  private openParen(frame: CommandFrame): void {
    if (frame.wordStart && this.scan.text[this.i + 1] === "(") {
      // bash's arithmetic command ((...)); to sh, two subshells.
      this.apply(skipArithmetic(this.scan, this.i, 2));
      return;
    }
    frame.parens += 1;
    frame.wordStart = true;
    this.i += 1;
  }

  private closeParen(frame: CommandFrame): void {
    this.i += 1;
    if (frame.nested && frame.parens === 0) {
      this.stack.pop();
      return;
    }
    frame.parens = Math.max(0, frame.parens - 1);
    frame.wordStart = true;
  }

  private atCaseWord(): boolean {
    const { text } = this.scan;
    return (
      text.startsWith("case", this.i) && /^\s$/.test(text[this.i + 4] ?? "")
    );
  }

  private apply(skip: Skip): void {
    this.i = skip.end;
    if (skip.lost !== undefined) this.lost = skip.lost;
    if (skip.unterminated !== undefined) this.unterminated = skip.unterminated;
  }

  /** What the command text ends inside of, if anything. */
  private openConstruct(): string | undefined {
    const top = this.stack[this.stack.length - 1];
    if (top?.kind === "single") return "a ' is not closed";
    if (top?.kind === "double") return 'a " is not closed';
    if (top?.nested === true) return "a $( is not closed";
    const [heredoc] = this.heredocs;
    if (heredoc === undefined) return undefined;
    return `the here-document <<${heredoc.delimiter} has no body`;
  }
}

function commandFrame(nested: boolean): CommandFrame {
  return {
    kind: "command",
    nested,
    parens: 0,
    wordStart: true,
    comment: false,
  };
}
