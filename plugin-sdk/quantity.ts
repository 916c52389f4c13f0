/**
 * Kubernetes-style quantities ("500m", "2", "512Mi", "1.5G", "1e3"), the
 * notation SPEC §3 uses for resources: the workflow checks them, the
 * dispatcher compares them, plugins (docker) hand them on.
 */

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

/**
 * The value of a quantity: a string in Kubernetes notation ("500m" is
 * 0.5, "4Gi" is 4294967296), or a finite number >= 0 taken as it is.
 * Undefined for anything else, so each caller words its own error.
 */
export function quantityValue(value: unknown): number | undefined {
  const parsed = magnitude(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * Whether a value is written as a quantity whose amount no number holds:
 * "1e400", or the Infinity that JSON's 1e400 and YAML's .inf parse to.
 * quantityValue gives undefined for these too; this tells "too large"
 * from "not a quantity".
 */
export function quantityOverflows(value: unknown): boolean {
  return magnitude(value) === Number.POSITIVE_INFINITY;
}

/** A quantity's amount, Infinity past a double's range; else undefined. */
function magnitude(value: unknown): number | undefined {
  if (typeof value === "number") {
    return value >= 0 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = QUANTITY.exec(value.trim());
  if (match === null) return undefined;
  const [, digits, exponent, suffix] = match;
  const base = Number(digits);
  return exponent !== undefined
    ? base * 10 ** Number(exponent)
    : base * (suffix === undefined ? 1 : (MULTIPLIERS[suffix] ?? 1));
}
