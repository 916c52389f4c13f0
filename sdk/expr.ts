import { celLiteral } from "./cel-literal.js";
import { celExpression, type Expression } from "./expression.js";

/**
 * Builds a CEL expression from a tagged template: references are spliced
 * as CEL (`${ref(extract).output.rows}` becomes
 * `tasks.extract.output.rows`), any other value as a CEL literal (a
 * string is quoted, so a value can never become code).
 *
 * ```ts
 * expr`${ref(extract).output.rows} > ${minRows}`
 * // tasks.extract.output.rows > 100
 * ```
 */
export function expr(
  strings: TemplateStringsArray,
  ...values: unknown[]
): Expression {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    text += celLiteral(value, `expr value ${i}`) + (strings[i + 1] ?? "");
  });
  return celExpression(text);
}
