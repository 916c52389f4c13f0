import type { JsonValue } from "../plugin-sdk/index.js";
import { expr } from "./expr.js";
import { celText, type Expression, isExpression } from "./expression.js";
import { kindOf, plainJson } from "./plain-json.js";
import { SdkError } from "./sdk-error.js";

/**
 * A task's `for_each`: what to expand the task over, one child per item.
 * Takes an {@link Expression} (`ref(list).output.files`), CEL text
 * (`"params.files"`, written as the template `${params.files}`), text
 * that already is a template (kept as is), a literal list, or a tagged
 * template like {@link expr}.
 */
export function forEach(over: string | Expression | JsonValue[]): ForEachValue;
export function forEach(
  strings: TemplateStringsArray,
  ...values: unknown[]
): ForEachValue;
export function forEach(
  first: string | Expression | JsonValue[] | TemplateStringsArray,
  ...values: unknown[]
): ForEachValue {
  if (isExpression(first)) return template(celText(first));
  if (typeof first === "string") {
    if (first.trim() === "") throw invalid("must not be empty");
    return first.includes("${") ? first : template(first);
  }
  if (isTemplateStrings(first)) {
    return template(celText(expr(first, ...values)));
  }
  if (Array.isArray(first)) return plainJson(first, "for_each") as JsonValue[];
  throw invalid(
    `must be an expression, a template or a list, not ${kindOf(first)}`,
  );
}

function isTemplateStrings(value: unknown): value is TemplateStringsArray {
  return (
    Array.isArray(value) && Array.isArray((value as { raw?: unknown }).raw)
  );
}

function invalid(message: string): SdkError {
  return new SdkError("invalid_workflow", `for_each: ${message}`, {
    field: "for_each",
  });
}

/** What `for_each` holds in a definition: a template or a list. */
export type ForEachValue = string | JsonValue[];

function template(text: string): string {
  return `\${${text}}`;
}
