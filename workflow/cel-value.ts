import {
  type CelInput,
  type CelValue,
  isCelList,
  isCelMap,
  isCelType,
  isCelUint,
  run,
} from "@bufbuild/cel";
import { isReflectMessage } from "@bufbuild/protobuf/reflect";
import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";
import { setOwn } from "./set-own.js";
import { TemplateError } from "./template-error.js";

/**
 * Converts a JSON value to a CEL input. JSON cannot tell `3` from `3.0`,
 * so a whole number that is a safe integer becomes a CEL int (what
 * `exit_code`, counts and the literal `0` are, so `params.n + 1` works)
 * and any other number a CEL double. The cost: arithmetic mixing such a
 * value with a double literal needs `double(x)`, as CEL never converts
 * numbers implicitly.
 */
export function toCelInput(value: JsonValue): CelInput {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map(toCelInput);
  if (value !== null && typeof value === "object") {
    // A Map, not an object: keys like `__proto__` or `toString` then
    // mean nothing special to the evaluator.
    const out = new Map<string, CelInput>();
    for (const [key, item] of Object.entries(value)) {
      out.set(key, toCelInput(item));
    }
    return out;
  }
  return value;
}

/**
 * Converts a CEL result to JSON: ints and uints become numbers (an integer
 * beyond 2^53 is an error rather than a silently rounded number), maps
 * become objects, lists arrays, timestamps and durations their CEL string
 * form. Bytes, types and NaN/Infinity have no JSON form and are errors.
 */
export function fromCelValue(value: CelValue, field?: string): JsonValue {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new TemplateError(`the value ${value} is not a JSON number`, {
      field,
    });
  }
  if (typeof value === "bigint") return integer(value, field);
  if (isCelUint(value)) return integer(value.value, field);
  if (isCelList(value)) {
    return [...value].map((item) => fromCelValue(item, field));
  }
  if (isCelMap(value)) {
    const out: JsonObject = {};
    for (const [key, item] of value) {
      const name = String(isCelUint(key) ? key.value : key);
      setOwn(out, name, fromCelValue(item, field));
    }
    return out;
  }
  return fromOther(value, field);
}

function fromOther(value: CelValue, field?: string): JsonValue {
  if (isReflectMessage(value)) {
    const name = value.desc.typeName;
    if (
      name === "google.protobuf.Timestamp" ||
      name === "google.protobuf.Duration"
    ) {
      const text = run("string(v)", { v: value });
      if (typeof text === "string") return text;
    }
    throw new TemplateError(`a ${name} value has no JSON form`, { field });
  }
  if (value instanceof Uint8Array) {
    throw new TemplateError("a bytes value has no JSON form", { field });
  }
  if (isCelType(value)) {
    throw new TemplateError("a type value has no JSON form", { field });
  }
  throw new TemplateError("the value has no JSON form", { field });
}

function integer(value: bigint, field?: string): number {
  const n = Number(value);
  if (Number.isSafeInteger(n)) return n;
  throw new TemplateError(
    `the integer ${value} is too large for a JSON number`,
    { field },
  );
}
