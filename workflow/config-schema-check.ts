import {
  Ajv2020,
  type ErrorObject,
  type ValidateFunction,
} from "ajv/dist/2020.js";
import type {
  ConfigSchema,
  JsonObject,
  JsonValue,
} from "../plugin-sdk/index.js";
import { fieldPath } from "./field-path.js";
import type { Report } from "./field-rules.js";
import { hasTemplate, soleExpression } from "./parse-template.js";

// One compiled validator per schema object, and per schema text: the
// schemas agents advertise are read from the database afresh for every
// definition checked, as new objects, which every StartRun compiled
// again (about 1 ms each) and Ajv's own cache kept for good.
const compiled = new WeakMap<ConfigSchema, ValidateFunction | Error>();
const compiledByText = new Map<string, ValidateFunction | Error>();
/** Schema texts kept compiled; the oldest goes first past this. */
const MAX_COMPILED_SCHEMAS = 1000;
// One Ajv for all of them: it compiles the 2020-12 meta-schema once, which
// takes longer than most plugins' own schemas. Ajv keeps something of
// every schema it compiled for as long as it lives, so after so many a
// new one takes over, and the old goes once no validator of its is kept.
let shared: Ajv2020 | undefined;
let compiledByShared = 0;

/**
 * Compiles a task type's config schema (JSON Schema 2020-12) with the
 * `x-encoding` keyword registered. Strict about unknown keywords, so a
 * typo in a plugin's schema fails loudly. `format` is not checked: that
 * needs the ajv-formats package, which this project does not carry yet.
 */
export function compileConfigSchema(schema: ConfigSchema): ValidateFunction {
  let found = compiled.get(schema);
  if (found === undefined) {
    const text = JSON.stringify(schema);
    found = compiledByText.get(text) ?? compileText(schema, text);
    compiled.set(schema, found);
  }
  if (found instanceof Error) throw found;
  return found;
}

function compileText(
  schema: ConfigSchema,
  text: string,
): ValidateFunction | Error {
  let found: ValidateFunction | Error;
  try {
    if (shared === undefined || compiledByShared >= MAX_COMPILED_SCHEMAS) {
      shared = newAjv();
      compiledByShared = 0;
    }
    compiledByShared++;
    found = shared.compile(schema);
  } catch (error) {
    found = error instanceof Error ? error : new Error(String(error));
  }
  if (compiledByText.size >= MAX_COMPILED_SCHEMAS) {
    const [oldest] = compiledByText;
    if (oldest !== undefined) compiledByText.delete(oldest[0]);
  }
  compiledByText.set(text, found);
  return found;
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    validateFormats: false,
    // Schemas are not kept by their `$id`, so two task types whose
    // schemas share one do not clash.
    addUsedSchema: false,
  });
  ajv.addKeyword({
    keyword: "x-encoding",
    schemaType: "string",
    metaSchema: { enum: ["shell", "url", "bind"] },
  });
  return ajv;
}

/**
 * Validates a config against its type's schema, reporting each Ajv error
 * on a field under `config.`. A value that holds a template is only known
 * at run time, so errors about it are dropped: a string that is exactly
 * one `${...}` passes wherever the schema wants any type, and a string
 * with text around templates is checked only for being a string.
 */
export function checkConfig(
  config: JsonObject,
  schema: ConfigSchema,
  typeName: string,
  report: Report,
): void {
  let validate: ValidateFunction;
  try {
    validate = compileConfigSchema(schema);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    report("type", `task type "${typeName}" has an invalid schema: ${reason}`);
    return;
  }
  if (validate(config)) return;
  for (const error of relevantErrors(config, validate.errors ?? [])) {
    const { field, message } = describeError(error);
    report(field, message);
  }
}

const COMBINATORS = new Set(["anyOf", "oneOf", "not", "if"]);
const WHOLE_VALUE = new Set([...COMBINATORS, "enum", "const", "uniqueItems"]);

function relevantErrors(
  config: JsonObject,
  errors: readonly ErrorObject[],
): ErrorObject[] {
  // A combinator that failed because of a template takes its branches'
  // errors with it: they describe a value nobody knows yet.
  const droppedBranches: string[] = [];
  for (const error of errors) {
    const data = valueAt(config, error.instancePath);
    if (COMBINATORS.has(error.keyword) && containsTemplate(data)) {
      droppedBranches.push(`${error.schemaPath}/`);
    }
  }
  return errors.filter((error) => {
    if (droppedBranches.some((p) => error.schemaPath.startsWith(p))) {
      return false;
    }
    const data = valueAt(config, error.instancePath);
    if (typeof data === "string" && safeHasTemplate(data)) {
      return error.keyword === "type" && !isSoleTemplate(data);
    }
    return !(WHOLE_VALUE.has(error.keyword) && containsTemplate(data));
  });
}

function describeError(error: ErrorObject): { field: string; message: string } {
  const base = pointerToField(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required") {
    return {
      field: fieldPath(base, String(params.missingProperty)),
      message: "is required",
    };
  }
  if (error.keyword === "additionalProperties") {
    const key = String(params.additionalProperty);
    return { field: fieldPath(base, key), message: `unknown field "${key}"` };
  }
  let message = error.message ?? `fails "${error.keyword}"`;
  if (error.keyword === "enum" && Array.isArray(params.allowedValues)) {
    const allowed = params.allowedValues.map((v) => JSON.stringify(v));
    message += `: ${allowed.join(", ")}`;
  }
  return { field: base, message };
}

/** "/args/1/name" -> "config.args[1].name". */
function pointerToField(pointer: string): string {
  let field = "config";
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    field = /^(0|[1-9][0-9]*)$/.test(key)
      ? fieldPath(field, Number(key))
      : fieldPath(field, key);
  }
  return field;
}

function valueAt(config: JsonValue, pointer: string): JsonValue | undefined {
  let current: JsonValue | undefined = config;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) current = current[Number(key)];
    else if (current !== null && typeof current === "object") {
      current = Object.hasOwn(current, key) ? current[key] : undefined;
    } else return undefined;
  }
  return current;
}

function containsTemplate(value: JsonValue | undefined): boolean {
  if (typeof value === "string") return safeHasTemplate(value);
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value !== null && typeof value === "object") {
    return Object.values(value).some(containsTemplate);
  }
  return false;
}

function isSoleTemplate(value: string): boolean {
  try {
    return soleExpression(value) !== undefined;
  } catch {
    return true;
  }
}

function safeHasTemplate(value: string): boolean {
  try {
    return hasTemplate(value);
  } catch {
    // An unclosed `${` is reported by the template checks.
    return true;
  }
}
