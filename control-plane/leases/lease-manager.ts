import { type Clock, type Logger, rootCause } from "../../core/index.js";
import type { DatabaseHealth, Db } from "../db/index.js";
import { timeOutRuns } from "../runs/time-out-runs.js";
import { expireLeases, promoteDueRetries } from "./expire-leases.js";
import { markReplicaSeen, rejoinReplicas } from "./replica-presence.js";

export interface LeaseManagerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** How often to look for expired leases and due retries; default 500. */
  sweepIntervalMs?: number;
  /** This replica, marked seen on every sweep. */
  replicaId: string;
  /** Told how each sweep's round trips went: health follows them. */
  health?: DatabaseHealth | undefined;
}

/**
 * How long no replica may have reached the database before that time is
 * credited to held leases: ten sweeps, and at least 2 s. The control
 * plane's start credits a downtime with the same bound.
 */
export function downtimeAfterMs(sweepIntervalMs: number): number {
  return Math.max(10 * sweepIntervalMs, 2000);
}

/**
 * Sweeps on every replica: takes back expired leases and queues retries
 * whose backoff passed. Replicas sweep side by side; SKIP LOCKED keeps
 * them off each other's rows.
 */
export class LeaseManager {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** The last sweep failed: the next one first credits any outage. */
  private unreached = false;

  constructor(private readonly options: LeaseManagerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** One sweep; exposed so that tests can drive it with their clock. */
  async sweep(): Promise<{ expired: number; promoted: number }> {
    try {
      return await this.sweepOnce();
    } catch (error) {
      this.unreached = true;
      throw error;
    }
  }

  private async sweepOnce(): Promise<{ expired: number; promoted: number }> {
    const { db, replicaId, logger } = this.options;
    const now = new Date(this.options.clock.now());
    if (this.unreached) {
      // Before any lease is expired: an outage of the database is time
      // no control plane could record a heartbeat.
      const interval = this.options.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
      const { creditedMs } = await rejoinReplicas(
        db,
        replicaId,
        now,
        downtimeAfterMs(interval),
      );
      this.unreached = false;
      if (creditedMs > 0) {
        logger.warn(
          { credited_ms: creditedMs },
          "no replica reached the database: lease expiry extended by the outage",
        );
      }
    } else {
      await markReplicaSeen(db, replicaId, now);
    }
    const expired = await expireLeases(db, now);
    const promoted = await promoteDueRetries(db, now);
    if (expired > 0) logger.warn({ expired }, "leases expired");
    for (const runId of await timeOutRuns(db, now)) {
      logger.warn({ run_id: runId }, "run timed out");
    }
    return { expired, promoted };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const interval = this.options.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
    const { clock, logger, health } = this.options;
    // A database outage fails every sweep: the first failure is logged
    // with its error, then one line a minute, then the recovery.
    let failing:
      | { since: number; failures: number; loggedAt: number }
      | undefined;
    while (!this.abort.signal.aborted) {
      try {
        await this.sweep();
        health?.answered();
        if (failing) {
          logger.info(
            {
              failures: failing.failures,
              failing_ms: clock.now() - failing.since,
            },
            "lease sweep works again",
          );
          failing = undefined;
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        health?.failed(error);
        const now = clock.now();
        if (!failing) {
          failing = { since: now, failures: 1, loggedAt: now };
          logger.error(
            { err: error },
            "lease sweep failed (logged again once a minute while it fails)",
          );
        } else {
          failing.failures += 1;
          if (now - failing.loggedAt >= STILL_FAILING_LOG_MS) {
            failing.loggedAt = now;
            // The driver's words: drizzle's own message is the statement.
            const cause = rootCause(error);
            logger.error(
              {
                error: cause.message,
                ...(cause.code ? { code: cause.code } : {}),
                failures: failing.failures,
                failing_ms: now - failing.since,
              },
              "lease sweep still failing",
            );
          }
        }
      }
      await clock.sleep(interval, this.abort.signal);
    }
  }
}

/** How often a sweep runs unless told (sweepIntervalMs). */
const DEFAULT_SWEEP_MS = 500;

/** How often a sweep that keeps failing is logged again. */
const STILL_FAILING_LOG_MS = 60_000;
