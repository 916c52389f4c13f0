import { expr } from "./expr.js";
import { celText, type Expression, isExpression } from "./expression.js";
import { SdkError } from "./sdk-error.js";

/**
 * A task `condition`: the bare CEL boolean, as the definition holds it.
 * Takes CEL text, an {@link Expression} (`ref(check).output.ok`), or a
 * tagged template like {@link expr}:
 *
 * ```ts
 * condition`${ref(extract).output.rows} > 0`
 * // "tasks.extract.output.rows > 0"
 * ```
 */
export function condition(text: string | Expression): string;
export function condition(
  strings: TemplateStringsArray,
  ...values: unknown[]
): string;
export function condition(
  first: string | Expression | TemplateStringsArray,
  ...values: unknown[]
): string {
  let text: string;
  if (isExpression(first)) text = celText(first);
  else if (typeof first === "string") text = first;
  else text = celText(expr(first, ...values));
  if (text.trim() === "") {
    throw new SdkError("invalid_workflow", "condition: must not be empty", {
      field: "condition",
    });
  }
  return text;
}
