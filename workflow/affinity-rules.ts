import { LABEL_KEY, LABEL_KEY_RULE } from "../core/agent-labels.js";
import { fieldPath } from "./field-path.js";
import { isObject, kindOf, type Report, show } from "./field-rules.js";
import {
  AFFINITY_OPERATORS,
  type AffinityExpression,
  type AffinityOperator,
} from "./workflow-definition.js";

/**
 * How an integer is written, for Gt and Lt, up to 255 digits (the
 * largest bound PostgreSQL's regular expressions take, and far inside
 * what its numeric type holds, so the claim's cast can never fail): in their values at submit
 * time, and in the agent's label when the claim compares (a label that
 * is not written so never matches Gt or Lt). The claim's SQL uses this
 * text as a POSIX regular expression, so it must mean the same there.
 */
export const AFFINITY_INTEGER_PATTERN = "^-?[0-9]{1,255}$";

const INTEGER = new RegExp(AFFINITY_INTEGER_PATTERN);
const EXPRESSION_FIELDS = ["key", "operator", "values"];

/**
 * Checks a task's `affinity` (SPEC §3): a list of expressions
 * `{ key, operator, values }` that must all hold. Values are written as
 * strings (YAML `values: [2]` becomes "2"). Every problem is reported,
 * each under its own path (`affinity[1].values`).
 */
export function normalizeAffinity(
  value: unknown,
  field: string,
  report: Report,
): AffinityExpression[] | undefined {
  if (!Array.isArray(value)) {
    report(
      field,
      `must be a list of { key, operator, values } expressions, not ${kindOf(value)}`,
    );
    return undefined;
  }
  let ok = true;
  const fail: Report = (f, message) => {
    ok = false;
    report(f, message);
  };
  const expressions = value.flatMap(
    (item, i) => expression(item, fieldPath(field, i), fail) ?? [],
  );
  return ok ? expressions : undefined;
}

function expression(
  value: unknown,
  field: string,
  report: Report,
): AffinityExpression | undefined {
  if (!isObject(value)) {
    report(
      field,
      `must be an object with key, operator and values, not ${kindOf(value)}`,
    );
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!EXPRESSION_FIELDS.includes(key)) {
      report(
        fieldPath(field, key),
        `unknown field "${key}" (known: ${EXPRESSION_FIELDS.join(", ")})`,
      );
    }
  }
  const key = labelKey(value.key, fieldPath(field, "key"), report);
  const operator = operatorOf(
    value.operator,
    fieldPath(field, "operator"),
    report,
  );
  if (operator === undefined) return undefined;
  const values = valuesFor(
    operator,
    value.values,
    fieldPath(field, "values"),
    report,
  );
  if (key === undefined || values === undefined) return undefined;
  return values.length === 0 ? { key, operator } : { key, operator, values };
}

function labelKey(
  value: unknown,
  field: string,
  report: Report,
): string | undefined {
  if (value === undefined) report(field, "is required");
  else if (typeof value !== "string") {
    report(field, `must be a label name, not ${kindOf(value)}`);
  } else if (value.trim() === "") report(field, "must not be empty");
  // A template is refused by the template check, with its own message.
  else if (!LABEL_KEY.test(value) && !value.includes("${")) {
    report(field, `label name ${show(value)} ${LABEL_KEY_RULE}`);
  } else return value;
  return undefined;
}

function operatorOf(
  value: unknown,
  field: string,
  report: Report,
): AffinityOperator | undefined {
  const known = AFFINITY_OPERATORS.join(", ");
  if (value === undefined) {
    report(field, `is required (one of ${known})`);
  } else if (!AFFINITY_OPERATORS.includes(value as AffinityOperator)) {
    report(field, `unknown operator ${show(value)} (known: ${known})`);
  } else {
    return value as AffinityOperator;
  }
  return undefined;
}

/** The operator's values as strings, or undefined after reporting. */
function valuesFor(
  operator: AffinityOperator,
  value: unknown,
  field: string,
  report: Report,
): string[] | undefined {
  if (value !== undefined && !Array.isArray(value)) {
    report(field, `must be a list of values, not ${kindOf(value)}`);
    return undefined;
  }
  const list = value ?? [];
  switch (operator) {
    case "Exists":
    case "DoesNotExist":
      if (list.length === 0) return [];
      report(field, `${operator} takes no values`);
      return undefined;
    case "In":
    case "NotIn":
      if (list.length > 0) return scalars(list, field, report);
      report(field, `${operator} needs at least one value`);
      return undefined;
    case "Gt":
    case "Lt":
      if (list.length === 1) return integer(operator, list[0], field, report);
      report(
        field,
        `${operator} takes exactly one integer value, not ${list.length}`,
      );
      return undefined;
  }
}

function scalars(
  list: unknown[],
  field: string,
  report: Report,
): string[] | undefined {
  const out: string[] = [];
  list.forEach((item, i) => {
    if (typeof item === "number" && !Number.isSafeInteger(item)) {
      if (Number.isInteger(item)) report(fieldPath(field, i), inexact(item));
      else out.push(String(item));
    } else if (["string", "number", "boolean"].includes(typeof item)) {
      out.push(String(item));
    } else {
      report(
        fieldPath(field, i),
        `must be a string, number or boolean, not ${kindOf(item)}`,
      );
    }
  });
  return out.length === list.length ? out : undefined;
}

function integer(
  operator: AffinityOperator,
  item: unknown,
  field: string,
  report: Report,
): string[] | undefined {
  const text =
    typeof item === "string" || typeof item === "number"
      ? String(item)
      : undefined;
  if (typeof item === "number" && !Number.isSafeInteger(item)) {
    report(fieldPath(field, 0), inexact(item));
    return undefined;
  }
  if (text !== undefined && INTEGER.test(text)) return [text];
  report(
    fieldPath(field, 0),
    `${operator} compares integers; ${show(item)} is not one`,
  );
  return undefined;
}

/**
 * A whole number past 2^53 as a JSON or YAML number has already lost its
 * last digits when it reaches us; as a string it keeps them.
 */
function inexact(item: number): string {
  return `${item} is too large to be read exactly as a number; write it as a string ("...")`;
}
