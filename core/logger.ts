import { type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** pino level; default from DEERFLOW_LOG_LEVEL, else "info". */
  level?: string;
  /** Pretty lines instead of JSON; default: when stderr is a terminal. */
  pretty?: boolean;
  /** Bound to every line, for example `{ component: "agent" }`. */
  base?: Record<string, unknown>;
}

/**
 * Structured logs to stderr: JSON for machines, pretty on a terminal.
 * Logs go to stderr so that commands can keep stdout for their results.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.DEERFLOW_LOG_LEVEL ?? "info";
  const usePretty = options.pretty ?? process.stderr.isTTY === true;
  const destination = usePretty
    ? pretty({ destination: 2, ignore: "pid,hostname", sync: true })
    : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: options.base ?? null }, destination);
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
