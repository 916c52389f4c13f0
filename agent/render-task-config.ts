import type { ConfigSchema, JsonObject } from "../plugin-sdk/index.js";
import {
  compileConfigSchema,
  renderConfig,
  type TemplateContext,
  TemplateError,
} from "../workflow/index.js";

/** Renders an assignment's config against the plugin's schema. */
export type RenderTaskConfig = (
  config: JsonObject,
  schema: ConfigSchema,
  context: JsonObject,
) => JsonObject;

/**
 * Renders the config's templates, then checks the result against the
 * task type's schema once more (SPEC §6): the control plane checked the
 * definition, but only the rendered values show whether, say, a template
 * that had to yield a number did. Throws naming the field.
 *
 * The assignment's `context` Struct is the TemplateContext the control
 * plane built (params, tasks, run, task); the attempt adds `secrets`, the
 * values the Assignment carried, so `${secrets.NAME}` renders here with
 * the field's encoding (shell-quoted, percent-encoded) like any value.
 */
export const renderTaskConfig: RenderTaskConfig = (config, schema, context) => {
  let rendered: JsonObject;
  try {
    rendered = renderConfig(
      config,
      schema,
      context as unknown as TemplateContext,
    );
  } catch (error) {
    if (error instanceof TemplateError && error.field !== undefined) {
      throw new Error(`${error.field}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  const validate = compileConfigSchema(schema);
  if (!validate(rendered)) {
    const problems = (validate.errors ?? []).map(
      (error) =>
        `${fieldOf(error.instancePath)}: ${error.message ?? error.keyword}`,
    );
    throw new Error(problems.join("; "));
  }
  return rendered;
};

/** "/args/1/name" -> "config.args[1].name". */
function fieldOf(pointer: string): string {
  let field = "config";
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    field += /^(0|[1-9][0-9]*)$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return field;
}
