import { type Clock, type Logger, rootCause } from "../../core/index.js";

/** The least time without an answer that counts as the database lost. */
const MIN_SILENT_MS = 10_000;
/** ... and in lease sweeps, for a replica that sweeps less often. */
const SILENT_SWEEPS = 20;

/**
 * How long the database may go without answering a lease sweep before
 * health says NOT_SERVING: 10 s, or 20 sweeps when that is longer. A
 * sweep is a few short statements; one still waiting after that long
 * is on a connection that went silent (a partition drops packets
 * without a reset) or behind a database too slow to serve.
 */
export function silentAfterMs(sweepIntervalMs: number): number {
  return Math.max(MIN_SILENT_MS, SILENT_SWEEPS * sweepIntervalMs);
}

export interface DatabaseHealthOptions {
  clock: Clock;
  logger: Logger;
  /** How long without an answer counts as lost (see silentAfterMs). */
  silentAfterMs: number;
}

/**
 * Whether this replica's database answers, as its periodic round trip
 * (the lease sweep) finds it: lost when the last round trip failed, or
 * when none has answered for `silentAfterMs`; back at the next one that
 * answers. It starts up, as a replica builds one only after opening
 * and migrating its database. Each change is logged once: a warning
 * when lost, info when back. A round trip that hangs is noticed when
 * health is next asked (Check, or Watch's once a second).
 */
export class DatabaseHealth {
  private answeredAt: number;
  private lastError: unknown;
  /** When it was reported lost; undefined while up. */
  private lostAt: number | undefined;
  private failuresWhileLost = 0;

  constructor(private readonly options: DatabaseHealthOptions) {
    this.answeredAt = options.clock.now();
  }

  /** A round trip answered. */
  answered(): void {
    this.answeredAt = this.options.clock.now();
    this.lastError = undefined;
    this.settle();
  }

  /** A round trip failed. */
  failed(error: unknown): void {
    this.lastError = error ?? new Error("failed");
    if (this.lostAt !== undefined) this.failuresWhileLost += 1;
    this.settle();
  }

  /** Whether the database answers, as far as this replica knows. */
  isUp(): boolean {
    this.settle();
    return this.lostAt === undefined;
  }

  private settle(): void {
    const { clock, logger, silentAfterMs } = this.options;
    const now = clock.now();
    const silentMs = now - this.answeredAt;
    const up = this.lastError === undefined && silentMs <= silentAfterMs;
    if (up && this.lostAt !== undefined) {
      logger.info(
        { lost_ms: now - this.lostAt, failures: this.failuresWhileLost },
        "database answers again: health is SERVING",
      );
      this.lostAt = undefined;
    } else if (!up && this.lostAt === undefined) {
      this.lostAt = now;
      this.failuresWhileLost = this.lastError === undefined ? 0 : 1;
      logger.warn(
        {
          reason: this.lastError === undefined ? "silent" : "failed",
          error: describe(this.lastError),
          silent_ms: silentMs,
        },
        "database lost: health is NOT_SERVING",
      );
    }
  }
}

/**
 * The driver's words, not drizzle's wrapper around them ("Failed query:"
 * with the statement and its parameters).
 */
function describe(error: unknown): string | undefined {
  return error === undefined ? undefined : rootCause(error).message;
}
