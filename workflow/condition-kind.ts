import type { CelExpr } from "./expression-references.js";

/** Operators and functions whose result is never a boolean. */
const NON_BOOLEAN_CALLS: Readonly<Record<string, string>> = {
  "_+_": "a sum",
  "_-_": "a difference",
  "_*_": "a product",
  "_/_": "a quotient",
  "_%_": "a remainder",
  "-_": "a negation",
  size: "a size",
  string: "a string",
  int: "an integer",
  uint: "an integer",
  double: "a number",
  bytes: "bytes",
  timestamp: "a timestamp",
  duration: "a duration",
  now: "a timestamp",
  type: "a type",
  map: "a list",
  filter: "a list",
};

/**
 * What a condition's expression gives when that is plainly not a boolean,
 * judged from its outermost node: a literal, a list or map, arithmetic or
 * a conversion. Undefined when it is boolean or only known at run time
 * (`tasks.a.output.ok` may hold anything), which the run then checks.
 */
export function nonBooleanResult(expr: CelExpr): string | undefined {
  const kind = expr.exprKind;
  switch (kind.case) {
    case "constExpr": {
      const literal = kind.value.constantKind;
      if (literal.case === "boolValue") return undefined;
      if (literal.case === "stringValue") return "a string";
      if (literal.case === "nullValue") return "null";
      if (literal.case === "bytesValue") return "bytes";
      return "a number";
    }
    case "listExpr":
      return "a list";
    case "structExpr":
      return "a map";
    case "callExpr":
      return NON_BOOLEAN_CALLS[kind.value.function];
    case "comprehensionExpr": {
      // exists/all give booleans; map/filter give lists (their result is
      // the accumulator, a list literal at the start).
      const init = kind.value.accuInit?.exprKind;
      return init?.case === "listExpr" ? "a list" : undefined;
    }
    default:
      return undefined;
  }
}
