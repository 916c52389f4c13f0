import type { parse } from "@bufbuild/cel";
import { CONTEXT_VARIABLES, FUTURE_VARIABLES } from "./template-context.js";

/** A parsed CEL expression node. */
export type CelExpr = ReturnType<typeof parse>["expr"];

/** One read of `tasks.<id>` in an expression. */
export interface TaskReference {
  /** The task id; undefined when the id is computed (`tasks[x]`). */
  taskId?: string;
  /** What is read, for messages: "tasks.c.output", "tasks[...]". */
  path: string;
}

/** A call in an expression: `name(x)`, or `x.name()` when `member`. */
export interface FunctionCall {
  name: string;
  member: boolean;
}

/** The variables an expression reads, found without evaluating it. */
export interface ExpressionReferences {
  tasks: TaskReference[];
  /** Params read as `params.X`, `params['X']` or a bare `X`. */
  params: string[];
  /** Variables the SPEC defines that this version does not provide. */
  future: string[];
  /** `item` and `index`, which only a for_each task's children have. */
  loop: string[];
  /** The functions and operators it calls, by their CEL names. */
  functions: FunctionCall[];
}

/**
 * Walks a parsed expression and lists the tasks, params and future
 * variables it reads. Names bound by comprehensions (`xs.map(x, ...)`)
 * are not variables. `has(params.X)` tests presence and is not a read.
 */
export function expressionReferences(expr: CelExpr): ExpressionReferences {
  const found: ExpressionReferences = {
    tasks: [],
    params: [],
    future: [],
    loop: [],
    functions: [],
  };
  visit(expr, new Set(), found);
  return found;
}

function visit(e: CelExpr, bound: Set<string>, found: ExpressionReferences) {
  const kind = e.exprKind;
  switch (kind.case) {
    case "identExpr":
      return visitIdent(kind.value.name, bound, found);
    case "selectExpr":
      return visitSelect(e, kind.value, bound, found);
    case "callExpr":
      return visitCall(e, kind.value, bound, found);
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
    case "comprehensionExpr":
      return visitComprehension(kind.value, bound, found);
    default:
      return;
  }
}

function visitIdent(
  name: string,
  bound: Set<string>,
  found: ExpressionReferences,
) {
  if (bound.has(name) || CEL_TYPE_NAMES.has(name)) return;
  if (name === "tasks") {
    found.tasks.push({ path: "tasks" });
  } else if (FUTURE_VARIABLES.has(name)) {
    found.future.push(name);
  } else if (name === "item" || name === "index") {
    found.loop.push(name);
  } else if (!CONTEXT_VARIABLES.has(name)) {
    found.params.push(name);
  }
}

/**
 * CEL's type values (`type(x) == int`): names of the language, not of
 * params. A param of one of these names is still read as `params.int`.
 */
const CEL_TYPE_NAMES: ReadonlySet<string> = new Set([
  "int",
  "uint",
  "double",
  "bool",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
]);

type Select = Extract<CelExpr["exprKind"], { case: "selectExpr" }>["value"];
type Call = Extract<CelExpr["exprKind"], { case: "callExpr" }>["value"];
type Comprehension = Extract<
  CelExpr["exprKind"],
  { case: "comprehensionExpr" }
>["value"];

function visitSelect(
  e: CelExpr,
  select: Select,
  bound: Set<string>,
  found: ExpressionReferences,
) {
  const operand = select.operand;
  if (operand === undefined) return;
  const inner = taskAccess(operand, bound);
  if (inner !== undefined) {
    found.tasks.push({ ...inner, path: `${inner.path}.${select.field}` });
    return;
  }
  const direct = taskAccess(e, bound);
  if (direct !== undefined) {
    found.tasks.push(direct);
  } else if (isFree(operand, "params", bound)) {
    if (!select.testOnly) found.params.push(select.field);
  } else {
    visit(operand, bound, found);
  }
}

function visitCall(
  e: CelExpr,
  call: Call,
  bound: Set<string>,
  found: ExpressionReferences,
) {
  found.functions.push({
    name: call.function,
    member: call.target !== undefined,
  });
  const [container, key] = call.args;
  const direct = taskAccess(e, bound);
  if (direct !== undefined) {
    found.tasks.push(direct);
    // A computed id may itself read params or tasks.
    if (direct.taskId === undefined && key) visit(key, bound, found);
    return;
  }
  const name = key === undefined ? undefined : stringConstant(key);
  if (
    call.function === "_[_]" &&
    container !== undefined &&
    name !== undefined &&
    isFree(container, "params", bound)
  ) {
    found.params.push(name);
    return;
  }
  if (call.target) visit(call.target, bound, found);
  for (const arg of call.args) visit(arg, bound, found);
}

function visitComprehension(
  c: Comprehension,
  bound: Set<string>,
  found: ExpressionReferences,
) {
  if (c.iterRange) visit(c.iterRange, bound, found);
  if (c.accuInit) visit(c.accuInit, bound, found);
  const inner = new Set(bound);
  for (const name of [c.iterVar, c.iterVar2, c.accuVar]) {
    if (name !== "") inner.add(name);
  }
  for (const part of [c.loopCondition, c.loopStep, c.result]) {
    if (part) visit(part, inner, found);
  }
}

/** `tasks.X` or `tasks['X']` (or `tasks[expr]`, id unknown). */
function taskAccess(e: CelExpr, bound: Set<string>): TaskReference | undefined {
  const kind = e.exprKind;
  if (kind.case === "selectExpr") {
    const operand = kind.value.operand;
    if (operand === undefined || !isFree(operand, "tasks", bound)) return;
    const id = kind.value.field;
    return { taskId: id, path: `tasks.${id}` };
  }
  if (kind.case === "callExpr" && kind.value.function === "_[_]") {
    const [container, key] = kind.value.args;
    if (container === undefined || key === undefined) return;
    if (!isFree(container, "tasks", bound)) return;
    const id = stringConstant(key);
    if (id === undefined) return { path: "tasks[...]" };
    return { taskId: id, path: `tasks['${id}']` };
  }
  return undefined;
}

function isFree(e: CelExpr, name: string, bound: Set<string>): boolean {
  return (
    e.exprKind.case === "identExpr" &&
    e.exprKind.value.name === name &&
    !bound.has(name)
  );
}

function stringConstant(e: CelExpr): string | undefined {
  if (e.exprKind.case !== "constExpr") return undefined;
  const constant = e.exprKind.value.constantKind;
  return constant.case === "stringValue" ? constant.value : undefined;
}
