import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

/** A logger whose lines a test can read back. */
export interface CapturedLogger {
  logger: Logger;
  /** Every line logged so far, parsed. */
  lines(): Array<Record<string, unknown>>;
}

/**
 * A pino logger that keeps its JSON lines in memory, so that a test can
 * await what an in-process control plane logs (for example a refused
 * result) instead of sleeping.
 */
export function captureLogger(level = "info"): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  let partial = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString("utf8");
      const complete = partial.split("\n");
      partial = complete.pop() ?? "";
      for (const line of complete) {
        if (line.trim() !== "") lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { logger: pino({ level, base: null }, sink), lines: () => lines };
}
