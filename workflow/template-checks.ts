import type { ConfigSchema, JsonValue } from "../plugin-sdk/index.js";
import { nonBooleanResult } from "./condition-kind.js";
import {
  encodingOf,
  itemSchema,
  propertySchema,
} from "./config-schema-navigation.js";
import { callForms, parseExpression } from "./evaluate-expression.js";
import {
  type CelExpr,
  expressionReferences,
  type FunctionCall,
  type TaskReference,
} from "./expression-references.js";
import { fieldPath } from "./field-path.js";
import type { Report } from "./field-rules.js";
import { lexShellTemplate } from "./lex-shell-template.js";
import { parseTemplate, type TemplatePart } from "./parse-template.js";
import { checkSecretReads } from "./secret-references.js";
import { TemplateError } from "./template-error.js";

const NONE: ReadonlySet<string> = new Set();

/** What a task's templates and condition may read. */
export interface ReferenceScope {
  taskId: string;
  /** Every task id of the workflow. */
  taskIds: ReadonlySet<string>;
  /** The task's upstream (transitive `depends_on`). */
  upstream: { has(id: string): boolean };
  /** Declared params and the run's params. */
  params: ReadonlySet<string>;
  /** Declared params only, listed in messages. */
  declaredParams: readonly string[];
  /** Names of the task's `secrets` block. */
  secrets?: ReadonlySet<string>;
  /** Whether the task has `for_each`, so its templates may read item/index. */
  forEach?: boolean;
}

/**
 * Checks every template in a config value (all strings, recursively):
 * each parses, and reads only upstream tasks and known params. In a
 * string whose schema has `"x-encoding": "shell"`, each template must
 * stand where its value can be quoted, and the command must not end
 * inside a quote.
 */
export function checkConfigTemplates(
  value: JsonValue,
  field: string,
  scope: ReferenceScope,
  report: Report,
  schema?: ConfigSchema,
): void {
  if (typeof value === "string") {
    const shell = encodingOf(schema) === "shell";
    checkTemplateString(value, field, scope, report, shell);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const sub = itemSchema(schema, i);
      checkConfigTemplates(item, fieldPath(field, i), scope, report, sub);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const sub = propertySchema(schema, key);
      checkConfigTemplates(item, fieldPath(field, key), scope, report, sub);
    }
  }
}

/**
 * Checks a `for_each` given as a string: exactly one `${...}` template
 * that parses and reads only upstream tasks and known params (not `item`,
 * which it defines).
 */
export function checkForEach(
  value: string,
  scope: ReferenceScope,
  report: Report,
): void {
  let parts: TemplatePart[];
  try {
    parts = parseTemplate(value);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    report("for_each", error.message);
    return;
  }
  const only = parts[0];
  if (parts.length !== 1 || only?.kind !== "expression") {
    report(
      "for_each",
      'must be a list, or exactly one "${...}" expression that gives a list',
    );
    return;
  }
  const parsed = parseOrReport(only.source, "for_each", report);
  if (parsed !== undefined) {
    checkReferences(parsed, "for_each", { ...scope, forEach: false }, report);
    // The control plane expands for_each; it never holds secret values.
    checkSecretReads(parsed, "for_each", NONE, report, "for_each");
  }
}

/** Checks a `condition`: it parses and reads only what it may. */
export function checkCondition(
  expr: string,
  scope: ReferenceScope,
  report: Report,
): void {
  const parsed = parseOrReport(expr, "condition", report);
  if (parsed !== undefined) {
    const result = nonBooleanResult(parsed);
    if (result !== undefined) {
      report("condition", `must be a boolean expression, but gives ${result}`);
    }
    checkReferences(parsed, "condition", scope, report);
    checkSecretReads(parsed, "condition", NONE, report, "condition");
  }
}

function checkTemplateString(
  text: string,
  field: string,
  scope: ReferenceScope,
  report: Report,
  shell: boolean,
): void {
  let parts: TemplatePart[];
  try {
    parts = parseTemplate(text);
  } catch (error) {
    report(field, error instanceof Error ? error.message : String(error));
    return;
  }
  for (const part of parts) {
    if (part.kind !== "expression") continue;
    const parsed = parseOrReport(part.source, field, report);
    if (parsed === undefined) continue;
    checkReferences(parsed, field, scope, report);
    checkSecretReads(parsed, field, scope.secrets ?? NONE, report, "template");
  }
  if (shell) checkShellQuoting(parts, field, report);
}

/**
 * Reports templates of a shell field that stand where no quoting is safe,
 * and a command that ends inside a quote. A field without templates is
 * left to the shell, which may know syntax this lexer does not.
 */
function checkShellQuoting(
  parts: TemplatePart[],
  field: string,
  report: Report,
): void {
  if (!parts.some((part) => part.kind === "expression")) return;
  const { slots, unterminated } = lexShellTemplate(parts);
  for (const slot of slots) {
    if ("problem" in slot) report(field, slot.problem);
  }
  if (unterminated !== undefined) {
    report(field, `the command is incomplete: ${unterminated}`);
  }
}

function parseOrReport(
  source: string,
  field: string,
  report: Report,
): CelExpr | undefined {
  try {
    return parseExpression(source, field).expr;
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    report(field, error.message);
    return undefined;
  }
}

function checkReferences(
  expr: CelExpr,
  field: string,
  scope: ReferenceScope,
  report: Report,
): void {
  const found = expressionReferences(expr);
  for (const reference of found.tasks) {
    const problem = taskProblem(reference, scope);
    if (problem !== undefined) report(field, problem);
  }
  for (const name of new Set(found.params)) {
    if (!scope.params.has(name)) {
      const declared = scope.declaredParams.join(", ") || "none";
      report(
        field,
        `param "${name}" is not declared in params (declared: ${declared})`,
      );
    }
  }
  for (const name of new Set(found.future)) {
    report(field, `the variable "${name}" is not supported yet`);
  }
  const calls = new Map(
    found.functions.map((call) => [`${call.member}:${call.name}`, call]),
  );
  for (const call of calls.values()) {
    const problem = callProblem(call);
    if (problem) report(field, problem);
  }
  if (!scope.forEach) {
    for (const name of new Set(found.loop)) {
      report(field, `"${name}" is defined only in a task with for_each`);
    }
  }
}

/** Why a call cannot be evaluated here, or undefined when it can. */
function callProblem({ name, member }: FunctionCall): string | undefined {
  const forms = callForms(name);
  if (!forms.global && !forms.member) {
    return `CEL has no function "${name}" here`;
  }
  if (member && !forms.member) {
    return `CEL's ${name} is a function, not a method: write ${name}(x, ...), not x.${name}(...)`;
  }
  if (!member && !forms.global) {
    return `CEL's ${name} is a method: write x.${name}(...), not ${name}(x, ...)`;
  }
  return undefined;
}

function taskProblem(
  reference: TaskReference,
  scope: ReferenceScope,
): string | undefined {
  const { taskId: id, path } = reference;
  const me = scope.taskId;
  if (id === undefined) {
    return (
      `task ${me} reads ${path}: name the task with tasks.<id> ` +
      `or tasks['<id>'], so its dependency can be checked`
    );
  }
  if (!scope.taskIds.has(id)) {
    const missing = `task ${me} reads ${path} but there is no task "${id}"`;
    return missing + hint(id, scope);
  }
  if (!scope.upstream.has(id)) {
    return `task ${me} reads ${path} but ${id} is not upstream of ${me}`;
  }
  return undefined;
}

/** Ids with "-" or "." are not CEL names: `tasks.my-task` reads "my". */
function hint(id: string, scope: ReferenceScope): string {
  const similar = [...scope.taskIds].find(
    (other) => other.startsWith(`${id}-`) || other.startsWith(`${id}.`),
  );
  return similar === undefined
    ? ""
    : ` (for the task "${similar}" write tasks['${similar}'])`;
}
