import type { Expression } from "./expression.js";
import { EXPRESSION_TEXT } from "./expression.js";

/**
 * A reference to a value in the template context, like
 * `tasks.extract.output.rows`. It is an {@link Expression}:
 * `${ref(extract).output.rows}` inside a JavaScript template literal
 * writes the Deer Flow template `${tasks.extract.output.rows}`.
 *
 * A deeper reference is a property read (`ref(list).output.files[0]`) or
 * a call with the keys (`ref(list).output("files", 0)`). The call form
 * suits code compiled with `noUncheckedIndexedAccess`, where a property
 * read types as `Ref | undefined`, and keys that are not members: `then`,
 * `toString`, `toJSON` and `valueOf`.
 */
export type Ref = Expression & {
  (...keys: (string | number)[]): Ref;
  readonly [key: string]: Ref;
};

/** A task's reference: its state's fields, typed in every TS setting. */
export type TaskRef = Ref & {
  readonly status: Ref;
  readonly output: Ref;
  readonly exit_code: Ref;
  readonly attempts: Ref;
};

// CEL's reserved words cannot follow a dot; they are read by index.
const RESERVED = new Set(
  (
    "false in null true as break const continue else for function if " +
    "import let loop package namespace return var void while"
  ).split(" "),
);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIST_INDEX = /^(0|[1-9][0-9]*)$/;
const NOT_MEMBERS = new Set(["then", "toString", "toJSON", "valueOf"]);

/** A reference to `path` (CEL text). */
export function refAt(path: string): Ref {
  const template = `\${${path}}`;
  // An arrow function: callable, and without a `prototype` of its own.
  const target = () => undefined;
  return new Proxy(target, {
    apply(_target, _this, keys: unknown[]) {
      return refAt(
        keys.reduce<string>((p, k) => memberPath(p, String(k)), path),
      );
    },
    get(_target, key) {
      if (key === EXPRESSION_TEXT) return path;
      if (key === Symbol.toPrimitive) return () => template;
      if (key === "toString" || key === "toJSON") return () => template;
      if (typeof key === "symbol" || NOT_MEMBERS.has(key)) return undefined;
      return refAt(memberPath(path, key));
    },
    has(_target, key) {
      return key === EXPRESSION_TEXT;
    },
    ownKeys() {
      return [];
    },
  }) as unknown as Ref;
}

/** CEL text selecting `key` of `path`: `.key`, `[0]` or `["a-b"]`. */
export function memberPath(path: string, key: string): string {
  if (LIST_INDEX.test(key)) return `${path}[${key}]`;
  if (IDENTIFIER.test(key) && !RESERVED.has(key)) return `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** The run's params: `params.date` is `${params.date}`. */
export const params: Ref = refAt("params");
/** The current item of a `for_each` child. */
export const item: Ref = refAt("item");
/** The 0-based index of a `for_each` child. */
export const index: Ref = refAt("index");
/** The run: `run.id`, `run.name`, `run.started_at`. */
export const run: Ref = refAt("run");
/** A secret the task declares in its `secrets` block. */
export function secret(name: string): Ref {
  return refAt(memberPath("secrets", name));
}
/** A param by name; the same as `params[name]`. */
export function param(name: string): Ref {
  return refAt(memberPath("params", name));
}

/**
 * A task's state in the template context: `ref(extract).output.rows`,
 * `.status`, `.exit_code`, `.attempts`. Takes the task or its id.
 */
export function ref(task: { readonly id: string } | string): TaskRef {
  const id = typeof task === "string" ? task : task.id;
  return refAt(memberPath("tasks", id)) as TaskRef;
}
