import type { ConfigSchema, TemplateEncoding } from "../plugin-sdk/index.js";

/**
 * Finds the sub-schema for an object property: `properties`, then a
 * matching `patternProperties`, then `additionalProperties`, looking into
 * `allOf`/`anyOf`/`oneOf` branches when the schema itself has none.
 * `$ref` is not followed: a schema that hides a string behind a reference
 * loses its `x-encoding` (following refs needs Ajv's resolved schema).
 */
export function propertySchema(
  schema: ConfigSchema | undefined,
  key: string,
): ConfigSchema | undefined {
  if (schema === undefined) return undefined;
  const direct = objectAt(schema.properties, key);
  if (direct !== undefined) return direct;
  const patterns = asSchema(schema.patternProperties);
  for (const [pattern, sub] of Object.entries(patterns ?? {})) {
    if (safeTest(pattern, key) && isSchema(sub)) return sub;
  }
  const additional = asSchema(schema.additionalProperties);
  if (additional !== undefined) return additional;
  return inBranches(schema, (branch) => propertySchema(branch, key));
}

/** Finds the sub-schema for a list item (`prefixItems`, then `items`). */
export function itemSchema(
  schema: ConfigSchema | undefined,
  index: number,
): ConfigSchema | undefined {
  if (schema === undefined) return undefined;
  const prefix = schema.prefixItems;
  if (Array.isArray(prefix) && isSchema(prefix[index])) return prefix[index];
  const items = asSchema(schema.items);
  if (items !== undefined) return items;
  return inBranches(schema, (branch) => itemSchema(branch, index));
}

/** The `x-encoding` a string field's schema asks for, if any. */
export function encodingOf(
  schema: ConfigSchema | undefined,
): TemplateEncoding | undefined {
  const encoding = schema?.["x-encoding"];
  return encoding === "shell" || encoding === "url" || encoding === "bind"
    ? encoding
    : undefined;
}

function inBranches(
  schema: ConfigSchema,
  find: (branch: ConfigSchema) => ConfigSchema | undefined,
): ConfigSchema | undefined {
  for (const keyword of ["allOf", "anyOf", "oneOf"]) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const found = isSchema(branch) ? find(branch) : undefined;
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function objectAt(container: unknown, key: string): ConfigSchema | undefined {
  const map = asSchema(container);
  if (map === undefined || !Object.hasOwn(map, key)) return undefined;
  return asSchema(map[key]);
}

function asSchema(value: unknown): ConfigSchema | undefined {
  return isSchema(value) ? value : undefined;
}

function isSchema(value: unknown): value is ConfigSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function safeTest(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, "u").test(key);
  } catch {
    return false;
  }
}
