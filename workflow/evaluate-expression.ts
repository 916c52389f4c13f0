import {
  type CelInput,
  type CelResult,
  celEnv,
  celFunc,
  isCelError,
  objectType,
  parse,
  plan,
} from "@bufbuild/cel";
import { TimestampSchema, timestampNow } from "@bufbuild/protobuf/wkt";
import type { JsonValue } from "../plugin-sdk/index.js";
import { fromCelValue, toCelInput } from "./cel-value.js";
import { setOwn } from "./set-own.js";
import {
  CONTEXT_VARIABLES,
  FUTURE_VARIABLES,
  type TemplateContext,
} from "./template-context.js";
import { TemplateError } from "./template-error.js";

type Program = (bindings: Record<string, CelInput>) => CelResult;

const environment = celEnv({
  funcs: [
    celFunc("now", [], objectType(TimestampSchema), () => timestampNow()),
  ],
});

/**
 * Operators the evaluator carries out itself rather than through a
 * function of the environment: logic that short-circuits, the
 * conditional, indexing, and the loop condition of macros.
 */
const EVALUATOR_OPERATORS = new Set([
  "_&&_",
  "_||_",
  "_?_:_",
  "_[_]",
  "@not_strictly_false",
]);

/** How a function can be called here: `name(x, y)`, `x.name(y)`, both or neither. */
export interface CallForms {
  global: boolean;
  member: boolean;
}

/** The ways an expression may call `name` and be evaluated here. */
export function callForms(name: string): CallForms {
  if (EVALUATOR_OPERATORS.has(name)) return { global: true, member: false };
  const forms = { global: false, member: false };
  for (const overload of environment.funcs.find(name) ?? []) {
    if (overload.target === undefined) forms.global = true;
    else forms.member = true;
  }
  return forms;
}

// Templates repeat across tasks and runs; planning once per text saves
// the parse. Bounded so hostile or generated texts cannot grow it forever.
const programs = new Map<string, Program>();
const PROGRAM_CACHE_SIZE = 1000;
// Parsed expressions, read (never changed) by the static checks: a wide
// run repeats one template in each of thousands of tasks.
const parsedExpressions = new Map<string, ReturnType<typeof parse>>();

/**
 * Parses a CEL expression, throwing {@link TemplateError} with the
 * parser's line:column and reason when it does not parse.
 */
export function parseExpression(source: string, field?: string) {
  let parsed = parsedExpressions.get(source);
  if (parsed !== undefined) return parsed;
  try {
    parsed = parse(source);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const reason = raw.replace(/^<input>:/, "");
    throw new TemplateError(
      `expression "${source}" does not parse: ${reason}`,
      { field, cause: error },
    );
  }
  if (parsedExpressions.size >= PROGRAM_CACHE_SIZE) parsedExpressions.clear();
  parsedExpressions.set(source, parsed);
  return parsed;
}

/**
 * Evaluates a CEL expression over the context's variables and returns its
 * value as JSON. A bare name (`input_file`) reads `params.input_file`.
 */
export function evaluateExpression(
  source: string,
  context: TemplateContext,
  field?: string,
): JsonValue {
  const result = program(source, field)(bindingsOf(context));
  if (isCelError(result)) {
    throw new TemplateError(`expression "${source}": ${result.message}`, {
      field,
      cause: result,
    });
  }
  return fromCelValue(result, field);
}

/**
 * Evaluates a CEL boolean (for `condition`). Throws {@link TemplateError}
 * when the expression fails or its result is not a bool.
 */
export function evaluateCondition(
  expr: string,
  context: TemplateContext,
): boolean {
  const value = evaluateExpression(expr, context, "condition");
  if (typeof value !== "boolean") {
    throw new TemplateError(
      `condition "${expr}" must be a bool, not ${describe(value)}`,
      { field: "condition" },
    );
  }
  return value;
}

function program(source: string, field?: string): Program {
  let found = programs.get(source);
  if (found === undefined) {
    found = plan(environment, parseExpression(source, field)) as Program;
    if (programs.size >= PROGRAM_CACHE_SIZE) programs.clear();
    programs.set(source, found);
  }
  return found;
}

function bindingsOf(context: TemplateContext): Record<string, CelInput> {
  // No prototype: a bare `constructor` must not find Object's.
  const bindings: Record<string, CelInput> = Object.create(null);
  for (const [name, value] of Object.entries(context.params)) {
    if (!CONTEXT_VARIABLES.has(name) && !FUTURE_VARIABLES.has(name)) {
      setOwn(bindings, name, toCelInput(value));
    }
  }
  const tasks = new Map<string, CelInput>();
  for (const [id, task] of Object.entries(context.tasks)) {
    const { status, output, exit_code, attempts } = task;
    const state = toCelInput(
      exit_code === undefined
        ? { status, output, attempts }
        : { status, output, exit_code, attempts },
    );
    tasks.set(id, state);
  }
  bindings.params = toCelInput(context.params);
  bindings.tasks = tasks;
  bindings.run = toCelInput({ ...context.run });
  bindings.task = toCelInput({ ...context.task });
  if (context.secrets) bindings.secrets = toCelInput({ ...context.secrets });
  if (context.index !== undefined) {
    bindings.item = toCelInput(context.item ?? null);
    bindings.index = toCelInput(context.index);
  }
  return bindings;
}

function describe(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a map" : `a ${typeof value}`;
}
