import {
  type JsonObject,
  type JsonValue,
  quantityOverflows,
  quantityValue,
} from "../plugin-sdk/index.js";
import {
  integerAtLeast,
  isObject,
  kindOf,
  type Report,
  show,
  stringField,
} from "./field-rules.js";
import { writesTemplate } from "./parse-template.js";
import { requestAmount } from "./resource-request.js";

const KNOWN = ["cpu", "memory", "gpu", "storage"];

/**
 * Checks `resources` (SPEC §3): `cpu` and `memory` quantities, `gpu` a
 * count or `{count, type, memory}`, `storage` a size or `{size, type}`.
 * The value is kept as written, but for a GPU type written as a number,
 * kept as its text (as labels are); resourceRequest turns it into the
 * numbers the dispatcher compares, which must stay exact integers.
 */
export function normalizeResources(
  value: unknown,
  field: string,
  report: Report,
): JsonObject | undefined {
  if (!isObject(value)) {
    report(field, `must be an object, not ${kindOf(value)}`);
    return undefined;
  }
  let ok = true;
  const fail: Report = (f, message) => {
    ok = false;
    report(f, message);
  };
  const resources: JsonObject = { ...value };
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (key === "cpu") quantity(item, at, fail, 1000);
    else if (key === "memory") quantity(item, at, fail);
    else if (key === "gpu") resources.gpu = gpu(item, at, fail);
    else if (key === "storage") storage(item, at, fail);
    else fail(at, `unknown resource "${key}" (known: ${KNOWN.join(", ")})`);
  }
  return ok ? resources : undefined;
}

/** A quantity; `unit`s of it (cpu: 1000 millis a core) must count exactly. */
function quantity(
  value: unknown,
  field: string,
  report: Report,
  unit = 1,
): void {
  if (templated(value, field, report)) return;
  if (quantityValue(value) === undefined && !quantityOverflows(value)) {
    report(field, `${show(value)} is not a quantity (like "500m", "2", "4Gi")`);
  } else if (requestAmount(value, unit) === undefined) {
    report(field, `${show(value)} is too large to schedule`);
  }
}

/**
 * Whether `value` is a template, reported: resources become the numbers
 * a claim compares (resourceRequest) when the run starts, before any
 * template could render, and are never rendered after.
 */
function templated(value: unknown, field: string, report: Report): boolean {
  if (typeof value !== "string" || !writesTemplate(value)) return false;
  report(
    field,
    "templates are not rendered in resources, which are read when the " +
      "run starts to match the task to agents; write the value itself",
  );
  return true;
}

/** More GPUs than any one host has: a typo, not a request. */
const MAX_GPUS = 1024;

/** Checks `gpu`; returns it with a `type` written as a number as text. */
function gpu(value: JsonValue, field: string, report: Report): JsonValue {
  if (!isObject(value)) {
    gpuCount(value, 0, field, report);
    return value;
  }
  const checked: JsonObject = { ...value };
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (key === "count") gpuCount(item, 1, at, report);
    else if (key === "type") checked.type = gpuType(item, at, report) ?? item;
    else if (key === "memory") quantity(item, at, report);
    else report(at, `unknown field "${key}" (known: count, type, memory)`);
  }
  return checked;
}

/**
 * A GPU count, in either form: an integer, or a quantity string of a
 * whole number ("2", "1e1"), as Kubernetes takes nvidia.com/gpu. A
 * fraction ("500m") is refused: GPUs are allocated whole.
 */
function gpuCount(value: unknown, min: number, field: string, report: Report) {
  if (templated(value, field, report)) return;
  const count = integerAtLeast(wholeQuantity(value), min, field, report);
  if (count !== undefined && count > MAX_GPUS) {
    report(field, `must be at most ${MAX_GPUS}, not ${count}`);
  }
}

/** A string that is a quantity of a whole number as that number. */
function wholeQuantity(value: unknown): unknown {
  const parsed = typeof value === "string" ? quantityValue(value) : undefined;
  if (parsed === undefined) return value;
  // As requestAmount counts it: "15000000000n" is 15, float error aside.
  const whole = Math.round(parsed);
  const isWhole =
    Number.isSafeInteger(whole) && Math.abs(parsed - whole) < 1e-9;
  return isWhole ? whole : value;
}

/**
 * A GPU model, matched by its words (gpuTypeMatches): letters and digits
 * of ASCII, apart by spaces, "-", "_", "." or "/". One with no such word
 * would match every GPU.
 */
const GPU_MODEL = /^[A-Za-z0-9 ._/-]*[A-Za-z0-9][A-Za-z0-9 ._/-]*$/;

/** A GPU type; one written as a number (YAML's `type: 4090`) is its text. */
function gpuType(
  value: unknown,
  field: string,
  report: Report,
): string | undefined {
  if (templated(value, field, report)) return undefined;
  if (typeof value === "number" && !Number.isFinite(value)) {
    // Its text, "Infinity", would pass for a model's name.
    report(field, notAModel(value));
    return undefined;
  }
  const type =
    typeof value === "number"
      ? String(value)
      : stringField(value, field, report);
  if (type === undefined) return undefined;
  if (GPU_MODEL.test(type)) return type;
  report(field, notAModel(type));
  return undefined;
}

function notAModel(value: unknown): string {
  return `${show(value)} is not a GPU model (letters and digits, like "h100" or "nvidia-a100-80gb")`;
}

function storage(value: unknown, field: string, report: Report): void {
  if (!isObject(value)) {
    quantity(value, field, report);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (key === "size") quantity(item, at, report);
    else if (key === "type") storageType(item, at, report);
    else report(at, `unknown field "${key}" (known: size, type)`);
  }
}

function storageType(value: unknown, field: string, report: Report): void {
  if (!templated(value, field, report)) stringField(value, field, report);
}
