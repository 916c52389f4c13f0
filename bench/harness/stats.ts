/** Median and spread of one metric's samples. */
export interface Summary {
  /** How many samples. */
  n: number;
  median: number;
  min: number;
  max: number;
  /** The first and third quartiles (linear interpolation). */
  p25: number;
  p75: number;
  mean: number;
}

/**
 * The q-quantile (0..1) of values sorted ascending, interpolating linearly
 * between neighbours; NaN for no values.
 */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}

/** The q-quantile (0..1) of unsorted values. */
export function quantile(values: readonly number[], q: number): number {
  return quantileOfSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** Summarizes samples; every field is NaN when there are none. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = samples.filter(Number.isFinite).sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    median: quantileOfSorted(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    p25: quantileOfSorted(sorted, 0.25),
    p75: quantileOfSorted(sorted, 0.75),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

/** p50, p95 and p99 of a latency distribution, in its own unit. */
export function percentiles(values: readonly number[]): {
  p50: number;
  p95: number;
  p99: number;
  count: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: quantileOfSorted(sorted, 0.5),
    p95: quantileOfSorted(sorted, 0.95),
    p99: quantileOfSorted(sorted, 0.99),
    count: sorted.length,
  };
}
