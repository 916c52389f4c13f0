import type { TemplatePart } from "./parse-template.js";

/**
 * The quoting a template's value lands in, inside a POSIX shell command:
 * - "unquoted": between words or part of an unquoted word;
 * - "double": inside `"..."`;
 * - "single": inside `'...'`;
 * - "comment": after a `#` that starts a word, up to the end of the line.
 */
export type ShellContext = "unquoted" | "double" | "single" | "comment";

/**
 * Where one template of a shell field stands: a context its value can be
 * encoded for, or why no encoding is safe there.
 */
export type ShellSlot = { context: ShellContext } | { problem: string };

/**
 * Stands in for a template in the scanned text. It is no shell syntax, so
 * lookahead that meets it sees an ordinary word character; templates are
 * told apart by position, not by this character.
 */
const PLACEHOLDER = "\uFFFC";

/**
 * The text of a shell field with each template as one placeholder
 * character, and the slot found for each template so far.
 */
export class ShellScan {
  /** The literal text, one placeholder per template. */
  readonly text: string;
  private readonly sources = new Map<number, string>();
  private readonly slots = new Map<number, ShellSlot>();

  constructor(parts: readonly TemplatePart[]) {
    let text = "";
    for (const part of parts) {
      if (part.kind === "text") {
        text += part.text;
      } else {
        this.sources.set(text.length, part.source);
        text += PLACEHOLDER;
      }
    }
    this.text = text;
  }

  /** True when a template stands at `index`. */
  isTemplate(index: number): boolean {
    return this.sources.has(index);
  }

  /** True when a template stands anywhere in `[from, to)`. */
  hasTemplate(from: number, to: number): boolean {
    for (const index of this.sources.keys()) {
      if (index >= from && index < to) return true;
    }
    return false;
  }

  /** Records the context of the template at `index`. */
  place(index: number, context: ShellContext): void {
    if (this.sources.has(index)) this.slots.set(index, { context });
  }

  /** Records why the template at `index` cannot be encoded. */
  refuse(index: number, why: string): void {
    const source = this.sources.get(index);
    if (source === undefined) return;
    this.slots.set(index, { problem: `the template \${${source}} ${why}` });
  }

  /** Refuses every template in `[from, to)` that has no slot yet. */
  refuseIn(from: number, to: number, why: string): void {
    for (const index of this.sources.keys()) {
      if (index >= from && index < to && !this.slots.has(index)) {
        this.refuse(index, why);
      }
    }
  }

  /**
   * The slots in template order. A template the lexer never reached is
   * refused, so a gap in the lexer fails closed.
   */
  result(): ShellSlot[] {
    this.refuseIn(0, this.text.length, "was not reached by the shell lexer");
    return [...this.sources.keys()].map(
      (index) => this.slots.get(index) ?? { problem: "unreachable" },
    );
  }
}
