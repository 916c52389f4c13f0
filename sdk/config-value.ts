import type { Expression } from "./expression.js";

/**
 * A value in a task's config: JSON, where any value may also be an
 * {@link Expression} (a `ref(...)`), written as the template `${...}`.
 * A string that is exactly one template keeps the referenced value's
 * type when the task runs.
 */
export type ConfigValue =
  | null
  | boolean
  | number
  | string
  | Expression
  | ConfigValue[]
  | { [key: string]: ConfigValue | undefined };

/** A string field of a config: text with templates, or an expression. */
export type Text = string | Expression;

/** A config object: keys to {@link ConfigValue}s; undefined is left out. */
export type ConfigObject = { [key: string]: ConfigValue | undefined };
