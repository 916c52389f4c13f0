/**
 * Kubernetes-style quantities ("500m", "2", "512Mi", "1.5G", "1e3"), the
 * notation SPEC §3 uses for resources. workflow/ only checks their shape;
 * the docker plugin needs their values, so it parses them here.
 */
import { ConfigFieldError } from "./config-field-error.js";

// A decimal number, then an optional exponent or suffix.
const QUANTITY =
  /^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+)|([numkMGTPE]|[KMGTPE]i))?$/;

const MULTIPLIERS: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

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
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new QuantityError(field, `${value} is not a quantity >= 0`);
  }
  if (typeof value !== "string") {
    throw new QuantityError(field, `expected a quantity, got ${typeof value}`);
  }
  const match = QUANTITY.exec(value.trim());
  if (match === null) {
    throw new QuantityError(
      field,
      `${JSON.stringify(value)} is not a quantity (like "500m", "2", "512Mi")`,
    );
  }
  const [, digits, exponent, suffix] = match;
  const base = Number(digits);
  if (exponent !== undefined) return base * 10 ** Number(exponent);
  return suffix === undefined ? base : base * (MULTIPLIERS[suffix] ?? 1);
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
