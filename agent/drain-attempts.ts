import type { Logger } from "pino";
import type { Clock } from "../core/index.js";
import type { AttemptTable } from "./attempt-table.js";
import type { Outbox } from "./outbox.js";

/** When drain() or a Drain names none. */
export const DEFAULT_DRAIN_GRACE_MS = 30_000;

/** How long a drain waits for the last results to be acknowledged. */
export const DRAIN_ACK_WAIT_MS = 30_000;

/** What a drain waits on. */
export interface DrainAttemptsOptions {
  clock: Clock;
  /** Scoped to the agent. */
  logger: Logger;
  attempts: AttemptTable;
  outbox: Outbox;
  /** How long running attempts may take to finish. */
  gracePeriodMs: number;
  /** How long to wait, after that, for results to be acknowledged. */
  ackWaitMs: number;
}

/**
 * The waiting part of a drain (SPEC §5): lets running attempts finish
 * within the grace period, kills those still running then (a plugin stops
 * its whole process tree on abort; their results say LOST, retryable, so
 * the task runs again elsewhere), and waits, bounded, for the control
 * plane to acknowledge every result. The caller has already stopped
 * taking work and closes the agent afterwards.
 */
export async function drainAttempts(
  options: DrainAttemptsOptions,
): Promise<void> {
  const { clock, logger, attempts, outbox } = options;
  logger.info(
    { grace_period_ms: options.gracePeriodMs, running: attempts.size },
    "agent draining",
  );
  await within(clock, options.gracePeriodMs, attempts.allDone());
  if (attempts.size > 0) {
    logger.warn(
      { running: attempts.size },
      "drain grace period over; killing attempts",
    );
    attempts.abortAll("drained");
    await attempts.allDone();
  }
  await within(clock, options.ackWaitMs, outbox.whenEmpty());
  if (outbox.size > 0) {
    logger.error(
      { unacknowledged_results: outbox.size },
      "drain ended with results the control plane never acknowledged",
    );
  }
}

/** Waits for `done`, or `ms` on the clock, whichever comes first. */
export async function within(
  clock: Clock,
  ms: number,
  done: Promise<void>,
): Promise<void> {
  const timer = new AbortController();
  await Promise.race([done, clock.sleep(ms, timer.signal)]);
  timer.abort();
}
