import type { Logger } from "pino";

/**
 * Plugins run inside the agent's process. A plugin that leaves a promise
 * rejection unhandled, or throws from a timer, would otherwise end the
 * process and every attempt on it; the agent logs it and keeps running.
 * The attempt that caused it still ends through its own timeout or lease.
 */
export function surviveStrayErrors(logger: Logger): void {
  process.on("unhandledRejection", (reason) => {
    logger.error(
      { err: reason },
      "a plugin left a promise rejection unhandled; the agent keeps running",
    );
  });
  process.on("uncaughtException", (error) => {
    logger.error(
      { err: error },
      "a plugin threw outside its attempt; the agent keeps running",
    );
  });
}
