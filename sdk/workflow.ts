import type { JsonObject } from "../plugin-sdk/index.js";
import type { ConfigObject } from "./config-value.js";
import { definitionYaml } from "./definition-yaml.js";
import { type FieldChecks, fieldChecks } from "./field-checks.js";
import { SdkError } from "./sdk-error.js";
import { assertTask, Task } from "./task.js";
import { defaultableFields, type TaskOptions } from "./task-options.js";
import {
  type TaskDefaults,
  WORKFLOW_KEY_ORDER,
  type WorkflowDocument,
} from "./workflow-document.js";

/** What a workflow is besides its tasks (SPEC §3). */
export interface WorkflowOptions {
  /** `[A-Za-z0-9_.-]+`; registered workflows are found by it. */
  name: string;
  description?: string;
  /** Param defaults; a run may override declared params. */
  params?: ConfigObject;
  /** Task fields for every task that does not set them. */
  defaults?: TaskDefaults;
  /** At most this many tasks of one run at once. */
  concurrency?: number;
  /** Seconds a run may take. */
  timeout?: number;
}

/**
 * A workflow written as code. Tasks are added in order; a task may depend
 * only on tasks added before it, so ids, dependencies and the absence of
 * cycles are checked as the workflow is built. `toDefinition()` returns
 * exactly the document the same workflow written as YAML parses to, when
 * the YAML lists keys in the order of WORKFLOW_KEY_ORDER/TASK_KEY_ORDER.
 *
 * ```ts
 * const wf = new Workflow({ name: "etl", params: { date: "2026-12-01" } });
 * const extract = wf.task(new ShellTask("extract", "extract ${date}"));
 * wf.add(new SqlTask("load", { ... }, { depends_on: [extract] }));
 * ```
 */
export class Workflow {
  readonly name: string;
  readonly #head: Omit<WorkflowDocument, "tasks">;
  readonly #tasks = new Map<string, Task<object>>();
  readonly #checks: FieldChecks;

  constructor(options: WorkflowOptions) {
    if (typeof options !== "object" || options === null) {
      fieldChecks("workflow").fail("options", "must be an object");
    }
    this.#checks = fieldChecks(`workflow ${JSON.stringify(options.name)}`);
    this.name = this.#checks.id(options.name, "name");
    this.#head = readHead(options, this.#checks);
  }

  /** Adds tasks, in order; returns the workflow for chaining. */
  add(...tasks: Task<object>[]): this {
    tasks.forEach((task, i) => {
      this.#add(task, `add() argument ${i}`);
    });
    return this;
  }

  /**
   * Adds one task and returns it, so later tasks can depend on it. With
   * an id and a type name, makes a task of any type (a plugin's own):
   * `wf.task("id", "my_type", { ...config }, { depends_on: [...] })`.
   */
  task<T extends Task<object>>(task: T): T;
  task(
    id: string,
    type: string,
    config?: ConfigObject,
    options?: TaskOptions,
  ): Task<ConfigObject>;
  task(
    first: Task<object> | string,
    type?: string,
    config: ConfigObject = {},
    options: TaskOptions = {},
  ): Task<object> {
    const task =
      typeof first === "string"
        ? new Task(first, type ?? "", config, options)
        : first;
    this.#add(task, "task()");
    return task;
  }

  /** The tasks in the order they were added. */
  get tasks(): readonly Task<object>[] {
    return [...this.#tasks.values()];
  }

  /** The workflow as a definition document (plain JSON, no undefined). */
  toDefinition(): WorkflowDocument {
    if (this.#tasks.size === 0) {
      this.#checks.fail("tasks", "a workflow needs at least one task");
    }
    const source: Record<string, unknown> = {
      ...structuredClone(this.#head),
      tasks: this.tasks.map((task) => task.toDocument()),
    };
    const document: Record<string, unknown> = {};
    for (const key of WORKFLOW_KEY_ORDER) {
      if (source[key] !== undefined) document[key] = source[key];
    }
    return document as unknown as WorkflowDocument;
  }

  /** For JSON.stringify: the definition document. */
  toJSON(): WorkflowDocument {
    return this.toDefinition();
  }

  /**
   * The definition as YAML that parses back to `toDefinition()`, under
   * YAML 1.2 (as Deer Flow reads it) and 1.1 alike: strings that 1.1
   * would read as something else (`yes`, `on`, `2026-12-01`) are quoted.
   */
  toYAML(): string {
    return definitionYaml(this.toDefinition());
  }

  #add(value: unknown, field: string): void {
    const task = assertTask(value, field);
    const at = `tasks[${this.#tasks.size}]`;
    if (this.#tasks.has(task.id)) {
      this.#fail(task, `${at}.id`, "id", "duplicate task id");
    }
    task.dependsOn.forEach((dep, i) => {
      const depField = `depends_on[${i}]`;
      const upstream = this.#tasks.get(dep);
      if (upstream === undefined) {
        this.#fail(
          task,
          `${at}.${depField}`,
          depField,
          `"${dep}" is not in the workflow (add a task before the tasks ` +
            "that depend on it)",
        );
      }
      const given = task.options.depends_on?.[i];
      if (typeof given === "object" && given !== upstream) {
        this.#fail(
          task,
          `${at}.${depField}`,
          depField,
          `the workflow holds a different task object with id "${dep}"`,
        );
      }
    });
    this.#tasks.set(task.id, task);
  }

  #fail(
    task: Task<object>,
    field: string,
    shown: string,
    message: string,
  ): never {
    const where = `workflow ${JSON.stringify(this.name)}: task ${JSON.stringify(task.id)}`;
    throw new SdkError("invalid_workflow", `${where} ${shown}: ${message}`, {
      field,
    });
  }
}

function readHead(
  options: WorkflowOptions,
  checks: FieldChecks,
): Omit<WorkflowDocument, "tasks"> {
  const known = new Set<string>(WORKFLOW_KEY_ORDER);
  for (const [key, value] of Object.entries(options)) {
    if ((!known.has(key) || key === "tasks") && value !== undefined) {
      checks.fail(
        key,
        "unknown workflow option (known: name, description, params, " +
          "defaults, concurrency, timeout)",
      );
    }
  }
  const head: Omit<WorkflowDocument, "tasks"> = { name: options.name };
  if (options.description !== undefined) {
    head.description = checks.text(options.description, "description");
  }
  if (options.params !== undefined) {
    head.params = checks.object(options.params, "params") as JsonObject;
  }
  if (options.defaults !== undefined) {
    head.defaults = readDefaults(options.defaults, checks);
  }
  if (options.concurrency !== undefined) {
    head.concurrency = checks.integer(options.concurrency, "concurrency", 1);
  }
  if (options.timeout !== undefined) {
    head.timeout = checks.seconds(options.timeout, "timeout");
  }
  return head;
}

const DEFAULTABLE = [
  "trigger_rule",
  "timeout",
  "retries",
  "retry",
  "resources",
  "node_selector",
  "affinity",
  "labels",
  "env",
  "priority",
];

function readDefaults(value: unknown, checks: FieldChecks): TaskDefaults {
  const raw = checks.object(value, "defaults");
  for (const key of Object.keys(raw)) {
    if (!DEFAULTABLE.includes(key)) {
      checks.fail(
        `defaults.${key}`,
        `unknown field (defaults may set ${DEFAULTABLE.join(", ")})`,
      );
    }
  }
  const checked = defaultableFields(raw, checks, "defaults.");
  // Kept in the order written, as a YAML parser would keep it.
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    ordered[key] = (checked as Record<string, unknown>)[key];
  }
  return ordered as TaskDefaults;
}
