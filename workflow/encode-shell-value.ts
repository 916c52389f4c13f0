import { shellQuote } from "./shell-quote.js";
import type { ShellContext } from "./shell-scan.js";

/**
 * Writes a value into shell command text, for the quoting context it
 * lands in, so that the shell reads back exactly `text` and the text
 * around it keeps its structure:
 * - unquoted: one single-quoted word ({@link shellQuote});
 * - inside `"..."`: `\`, `"`, `$` and `` ` `` escaped with a backslash,
 *   the only characters special there (newlines stay as they are);
 * - inside `'...'`: the quote closed, the value as a quoted word, the
 *   quote reopened;
 * - in a comment: as unquoted, with each newline written as `\n`, since a
 *   newline would end the comment whatever the quotes around it.
 */
export function encodeShellValue(text: string, context: ShellContext): string {
  switch (context) {
    case "unquoted":
      return shellQuote(text);
    case "double":
      return text.replace(/[\\"$`]/g, "\\$&");
    case "single":
      return `'${shellQuote(text)}'`;
    case "comment":
      return shellQuote(text.replaceAll("\n", "\\n"));
  }
}
