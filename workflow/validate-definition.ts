import type { JsonObject } from "../plugin-sdk/index.js";
import { findCycles, upstreamQuestions } from "./dependency-graph.js";
import { fieldPath } from "./field-path.js";
import {
  idField,
  integerAtLeast,
  isObject,
  kindOf,
  type Report,
  runSeconds,
  stringField,
} from "./field-rules.js";
import {
  findTooDeep,
  LONE_SURROGATE_MESSAGE,
  loneSurrogatePaths,
  NUL_MESSAGE,
  nulPaths,
  PROTO_KEY_MESSAGE,
  protoKeyPaths,
  tooDeepMessage,
} from "./json-limits.js";
import { type NormalizedTask, normalizeTask } from "./normalize-task.js";
import { writesTemplate } from "./parse-template.js";
import { normalizeDefaults } from "./task-fields.js";
import {
  checkCondition,
  checkConfigTemplates,
  checkForEach,
  type ReferenceScope,
} from "./template-checks.js";
import type {
  Problem,
  TaskDefaults,
  TaskDefinition,
  TaskTypeCatalog,
  WorkflowDefinition,
} from "./workflow-definition.js";

/** What the validator needs besides the document. */
export interface ValidateDefinitionOptions {
  taskTypes: TaskTypeCatalog;
  /** The run's param overrides; each must be declared in `params`. */
  params?: JsonObject;
}

/** The outcome of {@link validateDefinition}. */
export interface DefinitionValidation {
  /** Set only when `problems` is empty. */
  definition?: WorkflowDefinition;
  problems: Problem[];
}

const TOP_LEVEL_FIELDS = [
  "name",
  "description",
  "params",
  "defaults",
  "concurrency",
  "timeout",
  "tasks",
];

/**
 * Normalizes and validates a parsed document (SPEC §3) and reports every
 * problem at once, each naming its task and field.
 */
export function validateDefinition(
  document: unknown,
  options: ValidateDefinitionOptions,
): DefinitionValidation {
  const problems: Problem[] = [];
  const report: Report = (field, message) =>
    problems.push({ taskId: "", field, message });
  // Checked first and alone: everything after walks these values.
  const deepDocument = findTooDeep(document);
  const deepParams = findTooDeep(options.params ?? {});
  if (deepDocument !== undefined || deepParams !== undefined) {
    if (deepDocument !== undefined)
      report(deepDocument.slice(1), tooDeepMessage());
    if (deepParams !== undefined)
      report(`params${deepParams}`, tooDeepMessage());
    return { problems };
  }
  // Also first and alone: every field of the definition is stored.
  if (!checkStorable(document, options.params ?? {}, report)) {
    return { problems };
  }
  if (!isObject(document)) {
    report(
      "",
      `a workflow definition must be an object, not ${kindOf(document)}`,
    );
    return { problems };
  }
  const top = readTopLevel(document, report);
  checkRunParams(top.params, options.params ?? {}, report);
  const tasks = readTasks(
    document.tasks,
    options.taskTypes,
    top.defaults,
    problems,
  );
  checkGraph(tasks, problems);
  const params = { declared: top.params, run: options.params ?? {} };
  checkTemplates(tasks, params, options.taskTypes, problems);
  if (problems.length > 0) return { problems: unique(problems) };
  const definition: WorkflowDefinition = {
    ...top.fields,
    name: top.name ?? "",
    params: top.params,
    tasks: tasks.map((normalized) => normalized.task),
  };
  return { definition, problems };
}

/**
 * Whether every string and key of the document and the run's params can
 * be stored: PostgreSQL holds no NUL and no lone UTF-16 surrogate, in
 * text or jsonb, and a process environment no NUL. Reports each one
 * found, by its path from the document's top ("tasks[0].env.HOME").
 */
function checkStorable(
  document: unknown,
  params: JsonObject,
  report: Report,
): boolean {
  let storable = true;
  for (const [prefix, value] of [
    ["", document],
    ["params", params],
  ] as const) {
    const at = (path: string) => (prefix + path).replace(/^\./, "");
    for (const path of nulPaths(value)) {
      report(at(path), NUL_MESSAGE);
      storable = false;
    }
    for (const path of loneSurrogatePaths(value)) {
      report(at(path), LONE_SURROGATE_MESSAGE);
      storable = false;
    }
    for (const path of protoKeyPaths(value)) {
      report(at(path), PROTO_KEY_MESSAGE);
      storable = false;
    }
  }
  return storable;
}

interface TopLevel {
  name?: string;
  params: JsonObject;
  defaults: TaskDefaults;
  fields: Omit<WorkflowDefinition, "name" | "params" | "tasks">;
}

function readTopLevel(document: JsonObject, report: Report): TopLevel {
  const top: TopLevel = { params: {}, defaults: {}, fields: {} };
  if (document.name === undefined) report("name", "is required");
  else top.name = idField(document.name, "name", report);
  for (const [key, value] of Object.entries(document)) {
    if (key === "description") {
      const text = stringField(value, key, report);
      if (text !== undefined) top.fields.description = text;
    } else if (key === "params") {
      if (isObject(value)) top.params = value;
      else
        report(
          key,
          `must be an object of param defaults, not ${kindOf(value)}`,
        );
    } else if (key === "defaults") {
      top.defaults = normalizeDefaults(value, report) ?? {};
      top.fields.defaults = top.defaults;
    } else if (key === "concurrency") {
      const concurrency = integerAtLeast(value, 1, key, report);
      if (concurrency !== undefined) top.fields.concurrency = concurrency;
    } else if (key === "timeout") {
      const timeout = runSeconds(value, key, report);
      if (timeout !== undefined) top.fields.timeout = timeout;
    } else if (!TOP_LEVEL_FIELDS.includes(key)) {
      report(
        key,
        `unknown field "${key}" (known: ${TOP_LEVEL_FIELDS.join(", ")})`,
      );
    }
  }
  return top;
}

function checkRunParams(declared: JsonObject, run: JsonObject, report: Report) {
  for (const name of Object.keys(run)) {
    if (!Object.hasOwn(declared, name)) {
      report(
        `params.${name}`,
        `param "${name}" is not declared in the workflow's params`,
      );
    }
  }
}

function readTasks(
  value: unknown,
  taskTypes: TaskTypeCatalog,
  defaults: TaskDefaults,
  problems: Problem[],
): NormalizedTask[] {
  if (!Array.isArray(value) || value.length === 0) {
    const message =
      value === undefined ? "is required" : "must be a non-empty list of tasks";
    problems.push({ taskId: "", field: "tasks", message });
    return [];
  }
  const context = { taskTypes, defaults, problems };
  return value.flatMap(
    (raw, index) => normalizeTask(raw, index, context) ?? [],
  );
}

/** Duplicate ids, unknown dependencies and cycles. */
function checkGraph(tasks: NormalizedTask[], problems: Problem[]): void {
  const positions = new Map<string, number[]>();
  for (const { task, index } of tasks) {
    positions.set(task.id, [...(positions.get(task.id) ?? []), index]);
  }
  for (const [id, at] of positions) {
    if (at.length < 2) continue;
    const where = at.map((i) => `tasks[${i}]`).join(", ");
    problems.push({
      taskId: id,
      field: "id",
      message: `duplicate task id "${id}" (${where})`,
    });
  }
  for (const { task } of tasks) {
    task.depends_on.forEach((dep, i) => {
      if (!positions.has(dep)) {
        problems.push({
          taskId: task.id,
          field: `depends_on[${i}]`,
          message: `unknown task "${dep}"`,
        });
      }
    });
  }
  for (const cycle of findCycles(tasks.map((normalized) => normalized.task))) {
    problems.push({
      taskId: cycle[0] ?? "",
      field: "depends_on",
      message: `dependency cycle: ${cycle.join(" -> ")}`,
    });
  }
}

/** Templates in configs and conditions: parse, tasks upstream, params known. */
function checkTemplates(
  tasks: NormalizedTask[],
  { declared, run }: { declared: JsonObject; run: JsonObject },
  taskTypes: TaskTypeCatalog,
  problems: Problem[],
): void {
  const nodes = tasks.map((normalized) => normalized.task);
  const upstreamOf = upstreamQuestions(nodes);
  const taskIds = new Set(nodes.map((task) => task.id));
  const params = new Set([...Object.keys(declared), ...Object.keys(run)]);
  for (const { task } of tasks) {
    const scope: ReferenceScope = {
      taskId: task.id,
      taskIds,
      upstream: upstreamOf(task.id),
      params,
      declaredParams: Object.keys(declared),
      secrets: new Set(Object.keys(task.secrets ?? {})),
      forEach: task.for_each !== undefined,
    };
    const report: Report = (field, message) =>
      problems.push({ taskId: task.id, field, message });
    const schema = taskTypes.get(task.type);
    checkConfigTemplates(task.config, "config", scope, report, schema);
    checkNoTemplates(task, report);
    if (task.condition !== undefined)
      checkCondition(task.condition, { ...scope, forEach: false }, report);
    if (typeof task.for_each === "string")
      checkForEach(task.for_each, scope, report);
    if (task.for_each !== undefined && task.dynamic) {
      report("dynamic", "a task cannot have both for_each and dynamic");
    }
  }
}

/**
 * Fields whose values are used as written: a template there would be
 * stored literally (a node_selector or affinity no agent matches, a name
 * with `${` in it), so it is refused instead.
 */
function checkNoTemplates(task: TaskDefinition, report: Report): void {
  const literal: [string, unknown][] = [["name", task.name]];
  for (const key of ["node_selector", "labels", "env"] as const) {
    for (const [k, v] of Object.entries(task[key] ?? {})) {
      literal.push([fieldPath(key, k), v]);
    }
  }
  task.affinity?.forEach(({ key, values }, i) => {
    const at = fieldPath("affinity", i);
    literal.push([fieldPath(at, "key"), key]);
    values?.forEach((v, j) => {
      literal.push([fieldPath(fieldPath(at, "values"), j), v]);
    });
  });
  for (const [field, value] of literal) {
    if (typeof value === "string" && writesTemplate(value)) {
      report(field, "templates are not rendered here; write the value itself");
    }
  }
}

/** The same problem found twice (a template repeated in a field) once. */
function unique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.taskId}\0${problem.field}\0${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
