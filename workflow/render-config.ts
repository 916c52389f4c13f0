import type {
  ConfigSchema,
  JsonObject,
  JsonValue,
  TemplateEncoding,
} from "../plugin-sdk/index.js";
import {
  encodingOf,
  itemSchema,
  propertySchema,
} from "./config-schema-navigation.js";
import { encodeShellValue } from "./encode-shell-value.js";
import { evaluateExpression } from "./evaluate-expression.js";
import { fieldPath } from "./field-path.js";
import { lexShellTemplate } from "./lex-shell-template.js";
import { parseTemplate, type TemplatePart } from "./parse-template.js";
import { setOwn } from "./set-own.js";
import type { ShellContext } from "./shell-scan.js";
import type { TemplateContext } from "./template-context.js";
import { TemplateError } from "./template-error.js";

/**
 * Renders every `${...}` in a config, field by field, following each
 * string property's "x-encoding" in the schema: "shell" encodes each value
 * for the shell quoting it stands in (unquoted, "...", '...', a comment),
 * so the shell reads it back as the value's text; "url" percent-encodes
 * it; "bind" leaves the field as written, for the plugin to bind with
 * `ctx.bind` (see {@link bindTemplate}); none writes it as text.
 * A string that is exactly one `${expr}` becomes the value itself
 * (number, list, object...), except in a shell field, where it is still
 * quoted as one word. Object keys are
 * not rendered. Throws {@link TemplateError} naming the field
 * ("config.command").
 */
export function renderConfig(
  config: JsonObject,
  schema: ConfigSchema,
  context: TemplateContext,
): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(config)) {
    const sub = propertySchema(schema, key);
    setOwn(
      out,
      key,
      renderValue(value, sub, fieldPath("config", key), context),
    );
  }
  return out;
}

function renderValue(
  value: JsonValue,
  schema: ConfigSchema | undefined,
  field: string,
  context: TemplateContext,
): JsonValue {
  if (typeof value === "string") {
    return renderString(value, encodingOf(schema), field, context);
  }
  if (Array.isArray(value)) {
    return value.map((item, i) =>
      renderValue(item, itemSchema(schema, i), fieldPath(field, i), context),
    );
  }
  if (value !== null && typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      const sub = propertySchema(schema, key);
      setOwn(out, key, renderValue(item, sub, fieldPath(field, key), context));
    }
    return out;
  }
  return value;
}

function renderString(
  text: string,
  encoding: TemplateEncoding | undefined,
  field: string,
  context: TemplateContext,
): JsonValue {
  const parts = templateParts(text, field);
  if (encoding === "bind") return text;
  const only = parts[0];
  // A URL field that is one template is the whole URL: its structure is
  // the value's own, so it is not percent-encoded. Shell fields still
  // quote it, so that it stays one word.
  if (
    parts.length === 1 &&
    only?.kind === "expression" &&
    encoding !== "shell"
  ) {
    return evaluateExpression(only.source, context, field);
  }
  const shell = encoding === "shell" ? shellContexts(parts, field) : [];
  let out = "";
  for (const part of parts) {
    if (part.kind === "text") {
      out += part.text;
      continue;
    }
    const value = evaluateExpression(part.source, context, field);
    if (encoding !== "shell") {
      out += encode(value, encoding, field);
      continue;
    }
    const where = shell.shift();
    if (where === undefined) {
      throw new TemplateError("the shell lexer lost count of templates", {
        field,
      });
    }
    out += encodeShell(value, where, field);
  }
  return out;
}

/**
 * The quoting context of each template of a shell field, in order.
 * Throws {@link TemplateError} when a template stands where no quoting is
 * safe, or the command ends inside a quote.
 */
function shellContexts(parts: TemplatePart[], field: string): ShellContext[] {
  const { slots, unterminated } = lexShellTemplate(parts);
  const contexts = slots.map((slot) => {
    if ("problem" in slot) throw new TemplateError(slot.problem, { field });
    return slot.context;
  });
  if (unterminated !== undefined) {
    throw new TemplateError(`the command is incomplete: ${unterminated}`, {
      field,
    });
  }
  return contexts;
}

/** Writes one template value into a shell field at its context. */
function encodeShell(
  value: JsonValue,
  context: ShellContext,
  field: string,
): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text.includes("\0")) {
    throw new TemplateError(
      "a value with a NUL character cannot be written into a shell command",
      { field },
    );
  }
  // Numbers and booleans are words with no character special in any
  // context, so they are written as they are.
  const bare = typeof value === "number" || typeof value === "boolean";
  return bare ? text : encodeShellValue(text, context);
}

function templateParts(text: string, field: string): TemplatePart[] {
  try {
    return parseTemplate(text);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new TemplateError(error.message, { field, cause: error });
  }
}

/** Writes one template value into a string with the field's encoding. */
function encode(
  value: JsonValue,
  encoding: TemplateEncoding | undefined,
  field: string,
): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (encoding === "url") {
    try {
      return encodeURIComponent(text);
    } catch (error) {
      throw new TemplateError("the value is not valid Unicode for a URL", {
        field,
        cause: error,
      });
    }
  }
  return text;
}
