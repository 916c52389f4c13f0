import {
  AFFINITY_INTEGER_PATTERN,
  type AffinityExpression,
} from "../../workflow/index.js";

const INTEGER = new RegExp(AFFINITY_INTEGER_PATTERN);

/**
 * Whether one affinity expression holds for an agent with these labels,
 * in TypeScript, for `deerflow explain`. The claim decides in SQL
 * ({@link affinityHolds}), which defines the meaning; this must answer
 * the same for every expression, and affinity-agreement.test.ts runs one
 * table of cases through both so that they cannot drift apart.
 */
export function expressionHolds(
  expression: AffinityExpression,
  labels: Readonly<Record<string, string>>,
): boolean {
  const label = labelOf(labels, expression.key);
  const values = expression.values;
  switch (expression.operator) {
    case "In":
      return label !== undefined && includes(values, label);
    case "NotIn":
      // The SQL's `NOT vals ? label` is unknown, so false, without values.
      return (
        label === undefined ||
        (values !== undefined && !includes(values, label))
      );
    case "Exists":
      return label !== undefined;
    case "DoesNotExist":
      return label === undefined;
    case "Gt":
    case "Lt":
      return compares(expression.operator, label, values);
    default:
      // An operator the validator would not store matches nothing.
      return false;
  }
}

/** Whether every expression holds: a task with none fits any agent. */
export function affinityHoldsFor(
  affinity: readonly AffinityExpression[] | null | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return (affinity ?? []).every((e) => expressionHolds(e, labels));
}

/** The agent's label, own keys only ("constructor" is no label). */
export function labelOf(
  labels: Readonly<Record<string, string>>,
  key: unknown,
): string | undefined {
  if (typeof key !== "string" || !Object.hasOwn(labels, key)) {
    return undefined;
  }
  const value = labels[key];
  return typeof value === "string" ? value : undefined;
}

/** Like jsonb `?` on an array: a string element equal to the label. */
function includes(values: unknown, label: string): boolean {
  return Array.isArray(values) && values.some((v) => v === label);
}

/**
 * Gt and Lt compare integers of any length, and only when both the label
 * and the first value are written as integers.
 */
function compares(
  operator: "Gt" | "Lt",
  label: string | undefined,
  values: unknown,
): boolean {
  const first = Array.isArray(values) ? values[0] : undefined;
  const bound =
    typeof first === "string" || typeof first === "number"
      ? String(first)
      : undefined;
  if (label === undefined || bound === undefined) return false;
  if (!INTEGER.test(label) || !INTEGER.test(bound)) return false;
  const a = BigInt(label);
  const b = BigInt(bound);
  return operator === "Gt" ? a > b : a < b;
}
