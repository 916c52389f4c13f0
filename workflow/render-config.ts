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
import { evaluateExpression } from "./evaluate-expression.js";
import { fieldPath } from "./field-path.js";
import { parseTemplate, type TemplatePart } from "./parse-template.js";
import { setOwn } from "./set-own.js";
import { shellQuote } from "./shell-quote.js";
import type { TemplateContext } from "./template-context.js";
import { TemplateError } from "./template-error.js";

/**
 * Renders every `${...}` in a config, field by field, following each
 * string property's "x-encoding" in the schema: "shell" quotes each value
 * as one shell word, "url" percent-encodes it, none writes it as text.
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
  let out = "";
  for (const part of parts) {
    if (part.kind === "text") {
      out += part.text;
    } else {
      const value = evaluateExpression(part.source, context, field);
      out += encode(value, encoding, field);
    }
  }
  return out;
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
  if (encoding === "shell") {
    if (text.includes("\0")) {
      throw new TemplateError(
        "a value with a NUL character cannot be written into a shell command",
        { field },
      );
    }
    // Numbers and booleans are single safe words; the rest is quoted.
    const bare = typeof value === "number" || typeof value === "boolean";
    return bare ? text : shellQuote(text);
  }
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
