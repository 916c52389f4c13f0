/**
 * CEL expressions as values, so that templates are written with the
 * language's own references instead of hand-typed strings. An
 * {@link Expression} holds CEL text; turned into a string (for example
 * inside a JavaScript template literal) it becomes the Deer Flow template
 * `${text}`, which is what configs and `for_each` take. `condition` takes
 * the bare text.
 */

const EXPRESSION = Symbol.for("deerflow.sdk.expression");

/** A CEL expression. `String(e)` is the template `${text}`. */
export interface Expression {
  readonly [EXPRESSION]: string;
  toString(): string;
}

/** Wraps CEL text as an {@link Expression}. */
export function celExpression(text: string): Expression {
  const template = `\${${text}}`;
  return {
    [EXPRESSION]: text,
    toString: () => template,
    toJSON: () => template,
  } as Expression;
}

/** True for an {@link Expression} (also a reference made by `ref`). */
export function isExpression(value: unknown): value is Expression {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[EXPRESSION] === "string"
  );
}

/** The CEL text of an expression. */
export function celText(expression: Expression): string {
  return expression[EXPRESSION];
}

/** The symbol under which an expression keeps its text (for `ref`). */
export const EXPRESSION_TEXT: typeof EXPRESSION = EXPRESSION;
