import type { JsonObject } from "../plugin-sdk/index.js";
import { fieldChecks } from "./field-checks.js";
import { SdkError } from "./sdk-error.js";
import {
  type OptionFields,
  type TaskOptions,
  taskOptionFields,
} from "./task-options.js";
import { TASK_KEY_ORDER, type TaskDocument } from "./workflow-document.js";

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*$/;

/**
 * One task of a workflow: its id, task type, config and options. The
 * classes per built-in type (`ShellTask`, `HttpTask`, ...) type the
 * config; `new Task(id, "my_type", config)` serves a plugin's own type.
 * Everything is checked when the task is made, and a task does not
 * change afterwards, so a workflow can check it once when it is added.
 */
export class Task<Config extends object = JsonObject> {
  readonly id: string;
  readonly type: string;
  /** The config as given. */
  readonly config: Readonly<Config>;
  readonly options: Readonly<TaskOptions>;
  /** Upstream task ids, in the order given. */
  readonly dependsOn: readonly string[];
  readonly #fields: OptionFields;
  readonly #config: JsonObject;

  constructor(
    id: string,
    type: string,
    config: Config,
    options: TaskOptions = {},
  ) {
    const checks = fieldChecks(`task ${JSON.stringify(id)}`);
    this.id = checks.id(id, "id");
    this.type = checks.text(type, "type");
    if (!TYPE_PATTERN.test(type)) {
      checks.fail("type", `${JSON.stringify(type)} is not a task type name`);
    }
    if (typeof options !== "object" || options === null) {
      checks.fail("options", "must be an object of task options");
    }
    this.#config = checks.object(config, "config");
    this.#fields = taskOptionFields(options, this.id, checks);
    this.config = config;
    this.options = options;
    this.dependsOn = this.#fields.depends_on ?? [];
  }

  /**
   * The task as a definition document: keys in TASK_KEY_ORDER, absent
   * options left out, `config` only when it has keys.
   */
  toDocument(): TaskDocument {
    const source: Record<string, unknown> = {
      ...this.#fields,
      id: this.id,
      type: this.type,
    };
    if (this.#fields.depends_on?.length === 0) delete source.depends_on;
    if (Object.keys(this.#config).length > 0) {
      source.config = structuredClone(this.#config);
    }
    const document: Record<string, unknown> = {};
    for (const key of TASK_KEY_ORDER) {
      if (source[key] !== undefined) {
        document[key] = structuredClone(source[key]);
      }
    }
    return document as unknown as TaskDocument;
  }
}

/** Throws unless `value` is a {@link Task}; `field` names the argument. */
export function assertTask(value: unknown, field: string): Task<object> {
  if (value instanceof Task) return value;
  throw new SdkError(
    "invalid_workflow",
    `${field}: must be a Task (new ShellTask(...), new Task(id, type, ...))`,
    { field },
  );
}
