/** Progress lines for a person watching a benchmark run. */
export interface Progress {
  /** A constant message plus fields, like the product's logs. */
  info(message: string, fields?: Record<string, unknown>): void;
}

/** Writes progress to stderr, or nowhere when `quiet`. */
export function stderrProgress(quiet = false): Progress {
  const started = performance.now();
  return {
    info(message, fields) {
      if (quiet) return;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const rest = fields
        ? ` ${Object.entries(fields)
            .map(
              ([k, v]) =>
                `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`,
            )
            .join(" ")}`
        : "";
      process.stderr.write(`[bench +${seconds}s] ${message}${rest}\n`);
    },
  };
}
