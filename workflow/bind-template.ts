import type { BoundTemplate, JsonValue } from "../plugin-sdk/index.js";
import { evaluateExpression } from "./evaluate-expression.js";
import { parseTemplate } from "./parse-template.js";
import type { TemplateContext } from "./template-context.js";
import { TemplateError } from "./template-error.js";

/**
 * Splits a `"bind"` field at its templates and evaluates each one: the
 * text around them stays the statement, the values become bind
 * parameters. `$${` has already become a literal `${` in `strings`.
 * Throws {@link TemplateError} naming `field`.
 */
export function bindTemplate(
  text: string,
  context: TemplateContext,
  field = "config",
): BoundTemplate {
  let parts: ReturnType<typeof parseTemplate>;
  try {
    parts = parseTemplate(text);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new TemplateError(error.message, { field, cause: error });
  }
  const strings: string[] = [""];
  const values: JsonValue[] = [];
  for (const part of parts) {
    if (part.kind === "text") {
      strings[strings.length - 1] += part.text;
    } else {
      values.push(evaluateExpression(part.source, context, field));
      strings.push("");
    }
  }
  return { strings, values };
}
