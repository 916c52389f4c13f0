/**
 * Quantities as the docker plugin needs them: parsed by the plugin SDK,
 * refused with an error that names the config field.
 */
import { quantityValue } from "../../plugin-sdk/index.js";
import { ConfigFieldError } from "./config-field-error.js";

/** A value that is not a quantity; `field` names where it came from. */
export class QuantityError extends ConfigFieldError {
  override readonly name = "QuantityError";
  override readonly code = "invalid_quantity";
}

/**
 * The value of a quantity: a string in Kubernetes notation, or a plain
 * non-negative number taken as it is. Throws {@link QuantityError}.
 */
export function parseQuantity(value: unknown, field: string): number {
  const parsed = quantityValue(value);
  if (parsed !== undefined) return parsed;
  if (typeof value === "number") {
    throw new QuantityError(field, `${value} is not a quantity >= 0`);
  }
  if (typeof value !== "string") {
    throw new QuantityError(field, `expected a quantity, got ${typeof value}`);
  }
  throw new QuantityError(
    field,
    `${JSON.stringify(value)} is not a quantity (like "500m", "2", "512Mi")`,
  );
}

/**
 * CPU cores as Docker's NanoCpus: "500m" is 500000000, "2" is 2e9. A
 * number is cores. Zero and values under one nano-CPU are refused, since
 * Docker reads 0 as "no limit".
 */
export function parseCpuNanos(value: unknown, field: string): number {
  const nanos = Math.round(parseQuantity(value, field) * 1e9);
  if (nanos < 1) {
    throw new QuantityError(field, `${JSON.stringify(value)} must be > 0`);
  }
  return nanos;
}

/**
 * A memory size in bytes, rounded up to a whole byte: "512Mi" is
 * 536870912, a number is bytes. Zero is refused (Docker reads it as "no
 * limit").
 */
export function parseMemoryBytes(value: unknown, field: string): number {
  const bytes = Math.ceil(parseQuantity(value, field));
  if (bytes < 1) {
    throw new QuantityError(field, `${JSON.stringify(value)} must be > 0`);
  }
  if (!Number.isSafeInteger(bytes)) {
    throw new QuantityError(field, `${JSON.stringify(value)} is too large`);
  }
  return bytes;
}
