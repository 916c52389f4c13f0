import type { Skip } from "./shell-constructs.js";
import type { ShellScan } from "./shell-scan.js";

/** A here-document whose body starts after the next newline. */
export interface Heredoc {
  /** The delimiter word, its quotes removed. */
  delimiter: string;
  /** `<<-`: leading tabs are stripped from each body line. */
  stripTabs: boolean;
}

/** A here-document operator that was read, and the document it opens. */
export interface HeredocOperator extends Skip {
  heredoc?: Heredoc;
}

/** Characters that end an unquoted word. */
const METACHARACTERS = " \t\n;&|<>()";

/**
 * Reads `<<WORD` or `<<-WORD` from its `<<`. The delimiter word may be
 * quoted in part (`<<'EOF'`, `<<E\OF`); a template in it is refused,
 * since the value would decide where the body ends.
 */
export function readHeredocOperator(
  scan: ShellScan,
  start: number,
): HeredocOperator {
  const { text } = scan;
  let i = start + 2;
  const stripTabs = text[i] === "-";
  if (stripTabs) i += 1;
  while (text[i] === " " || text[i] === "\t") i += 1;
  const wordStart = i;
  let delimiter = "";
  while (i < text.length && !METACHARACTERS.includes(text[i] ?? "")) {
    const c = text[i] ?? "";
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      if (close === -1) return { end: i, lost: `a ${c} in a << delimiter` };
      const inner = text.slice(i + 1, close);
      if (/[\\$`]/.test(inner)) return { end: i, lost: "a << delimiter" };
      delimiter += inner;
      i = close + 1;
    } else if (c === "\\") {
      delimiter += text[i + 1] ?? "";
      i += 2;
    } else if (c === "$" || c === "`") {
      return { end: i, lost: `a << delimiter with ${c}` };
    } else {
      delimiter += c;
      i += 1;
    }
  }
  if (scan.hasTemplate(wordStart, i)) {
    scan.refuseIn(wordStart, i, "stands in a here-document's delimiter");
    return { end: i, lost: "a << delimiter made from a template" };
  }
  if (delimiter === "") return { end: i, lost: "a << with no delimiter" };
  return { end: i, heredoc: { delimiter, stripTabs } };
}

/**
 * Skips the bodies of the pending here-documents, in order, from the
 * start of the line after their operators. A body ends at a line that is
 * exactly its delimiter (after stripping tabs for `<<-`). Templates in a
 * body are refused: an unquoted body expands `$`, `` ` `` and `\` but
 * keeps quotes, and any body ends early at a value's line that equals the
 * delimiter. Supporting them would take an escape for expanding bodies
 * and a check of each rendered line against the delimiter.
 */
export function readHeredocBodies(
  scan: ShellScan,
  start: number,
  heredocs: readonly Heredoc[],
): Skip {
  const why =
    "stands in a here-document body, where a value cannot be quoted; " +
    "pass it through the task's env and write $NAME there instead";
  const { text } = scan;
  let i = start;
  for (const { delimiter, stripTabs } of heredocs) {
    for (;;) {
      if (i >= text.length) {
        scan.refuseIn(start, text.length, why);
        const unterminated =
          `the here-document <<${delimiter} has no line ` +
          `"${delimiter}" to end it`;
        return { end: text.length, unterminated };
      }
      const newline = text.indexOf("\n", i);
      const end = newline === -1 ? text.length : newline;
      const raw = text.slice(i, end);
      const line = stripTabs ? raw.replace(/^\t+/, "") : raw;
      const templated = scan.hasTemplate(i, end);
      i = Math.min(end + 1, text.length);
      if (!templated && line === delimiter) break;
    }
  }
  scan.refuseIn(start, i, why);
  return { end: i };
}
