import { parse } from "@bufbuild/cel";
import type { JsonValue } from "../plugin-sdk/index.js";
import type { CelExpr } from "./expression-references.js";
import type { Report } from "./field-rules.js";
import { parseTemplate } from "./parse-template.js";
import { secretNameProblem } from "./secret-sources.js";

/** The secrets an expression reads, found without evaluating it. */
export interface SecretReads {
  /** Names read as `secrets.NAME` or `secrets['NAME']`. */
  names: string[];
  /** Reads of `secrets` that name no secret (`secrets[x]`, `secrets`). */
  unnamed: number;
}

/**
 * Walks a parsed expression for reads of `secrets`. Only reads that name
 * the secret are allowed, so the control plane knows, before dispatch,
 * every secret a task can see. Names bound by comprehensions are not
 * the variable.
 */
export function secretReads(expr: CelExpr): SecretReads {
  const found: SecretReads = { names: [], unnamed: 0 };
  visit(expr, new Set(), found);
  return found;
}

function visit(e: CelExpr, bound: Set<string>, found: SecretReads): void {
  const named = namedRead(e, bound);
  if (named !== undefined) {
    found.names.push(named);
    return;
  }
  const kind = e.exprKind;
  switch (kind.case) {
    case "identExpr":
      if (kind.value.name === "secrets" && !bound.has("secrets")) {
        found.unnamed += 1;
      }
      return;
    case "selectExpr":
      if (kind.value.operand) visit(kind.value.operand, bound, found);
      return;
    case "callExpr":
      if (kind.value.target) visit(kind.value.target, bound, found);
      for (const arg of kind.value.args) visit(arg, bound, found);
      return;
    case "listExpr":
      for (const item of kind.value.elements) visit(item, bound, found);
      return;
    case "structExpr":
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === "mapKey") {
          visit(entry.keyKind.value, bound, found);
        }
        if (entry.value) visit(entry.value, bound, found);
      }
      return;
    case "comprehensionExpr": {
      const c = kind.value;
      if (c.iterRange) visit(c.iterRange, bound, found);
      if (c.accuInit) visit(c.accuInit, bound, found);
      const inner = new Set(bound);
      for (const name of [c.iterVar, c.iterVar2, c.accuVar]) {
        if (name !== "") inner.add(name);
      }
      for (const part of [c.loopCondition, c.loopStep, c.result]) {
        if (part) visit(part, inner, found);
      }
      return;
    }
    default:
      return;
  }
}

/** The name of `secrets.NAME` or `secrets['NAME']`, else undefined. */
function namedRead(e: CelExpr, bound: Set<string>): string | undefined {
  const kind = e.exprKind;
  if (kind.case === "selectExpr") {
    const operand = kind.value.operand;
    return operand && isFreeSecrets(operand, bound)
      ? kind.value.field
      : undefined;
  }
  if (kind.case === "callExpr" && kind.value.function === "_[_]") {
    const [container, key] = kind.value.args;
    if (!container || !key || !isFreeSecrets(container, bound)) return;
    if (key.exprKind.case !== "constExpr") return;
    const constant = key.exprKind.value.constantKind;
    return constant.case === "stringValue" ? constant.value : undefined;
  }
  return undefined;
}

function isFreeSecrets(e: CelExpr, bound: Set<string>): boolean {
  return (
    e.exprKind.case === "identExpr" &&
    e.exprKind.value.name === "secrets" &&
    !bound.has("secrets")
  );
}

/**
 * Checks the secrets an expression reads. In a condition none may be
 * read: conditions run on the control plane, secrets only on the agent.
 * In a template each read names its secret, and a name the task's
 * `secrets` block does not declare must be a valid built-in store name
 * (it reads the store entry of that name).
 */
export function checkSecretReads(
  expr: CelExpr,
  field: string,
  declared: ReadonlySet<string>,
  report: Report,
  where: "template" | "condition" | "for_each",
): void {
  const reads = secretReads(expr);
  if (reads.names.length === 0 && reads.unnamed === 0) return;
  if (where !== "template") {
    const what = where === "condition" ? "a condition" : "for_each";
    report(
      field,
      `${what} cannot read secrets: it is evaluated by the control plane, ` +
        "and secrets reach only the agent",
    );
    return;
  }
  if (reads.unnamed > 0) {
    report(
      field,
      "read a secret by its name (secrets.NAME or secrets['NAME']), so " +
        "the control plane knows which secrets the task needs",
    );
  }
  for (const name of new Set(reads.names)) {
    if (declared.has(name)) continue;
    const problem = secretNameProblem(name);
    if (problem !== "") {
      report(
        field,
        `secret "${name}" is not in the task's secrets block, and as a ` +
          `built-in store name it ${problem}`,
      );
    }
  }
}

/**
 * Every secret name read by a template in a config value (all strings,
 * recursively). Parts that do not parse name nothing; the validator has
 * reported them at submit.
 */
export function referencedSecrets(
  value: JsonValue,
  into = new Set<string>(),
): Set<string> {
  if (typeof value === "string") {
    if (value.includes("${")) readTemplate(value, into);
  } else if (Array.isArray(value)) {
    for (const item of value) referencedSecrets(item, into);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) referencedSecrets(item, into);
  }
  return into;
}

function readTemplate(text: string, into: Set<string>): void {
  let sources: string[];
  try {
    sources = parseTemplate(text).flatMap((part) =>
      part.kind === "expression" ? [part.source] : [],
    );
  } catch {
    return;
  }
  for (const source of sources) {
    try {
      for (const name of secretReads(parse(source).expr).names) into.add(name);
    } catch {
      // Does not parse: reported at submit, renders to an error.
    }
  }
}
