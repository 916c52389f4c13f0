import type { JsonObject } from "../plugin-sdk/index.js";
import {
  integerAtLeast,
  isObject,
  kindOf,
  type Report,
  show,
  stringField,
} from "./field-rules.js";

// A Kubernetes quantity: a decimal number with an optional exponent,
// decimal SI suffix or binary suffix ("500m", "2", "4Gi", "1.5e3").
const QUANTITY =
  /^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$/;

const KNOWN = ["cpu", "memory", "gpu", "storage"];

/**
 * Checks `resources` (SPEC §3): `cpu` and `memory` quantities, `gpu` a
 * count or `{count, type, memory}`, `storage` a size or `{size, type}`.
 * The value is kept as written; the dispatcher parses quantities.
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
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (key === "cpu" || key === "memory") quantity(item, at, fail);
    else if (key === "gpu") gpu(item, at, fail);
    else if (key === "storage") storage(item, at, fail);
    else fail(at, `unknown resource "${key}" (known: ${KNOWN.join(", ")})`);
  }
  return ok ? value : undefined;
}

function quantity(value: unknown, field: string, report: Report): void {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) {
    return;
  }
  if (typeof value === "string" && QUANTITY.test(value)) return;
  report(field, `${show(value)} is not a quantity (like "500m", "2", "4Gi")`);
}

function gpu(value: unknown, field: string, report: Report): void {
  if (typeof value === "string" && /^[0-9]+$/.test(value)) return;
  if (!isObject(value)) {
    integerAtLeast(value, 0, field, report);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (key === "count") integerAtLeast(item, 1, at, report);
    else if (key === "type") stringField(item, at, report);
    else if (key === "memory") quantity(item, at, report);
    else report(at, `unknown field "${key}" (known: count, type, memory)`);
  }
}

function storage(value: unknown, field: string, report: Report): void {
  if (!isObject(value)) {
    quantity(value, field, report);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (key === "size") quantity(item, at, report);
    else if (key === "type") stringField(item, at, report);
    else report(at, `unknown field "${key}" (known: size, type)`);
  }
}
