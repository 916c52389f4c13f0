import { type Logger, rootCause } from "../../core/index.js";
import type { Db } from "../db/index.js";
import type { LeaseRef } from "./acknowledge-lease.js";
import { type Heartbeat, renewLeasesOfHeartbeats } from "./renew-leases.js";

/**
 * An agent's heartbeats keep a revoked attempt's lease until the agent
 * reports the attempt stopped (renewLeasesOfHeartbeats).
 */
const UNTIL_STOPPED = { revokedUntilStopped: true };

/** What a HeartbeatRecorder needs; there is one per replica. */
export interface HeartbeatRecorderOptions {
  db: Db;
  logger: Logger;
  /** Most heartbeats written by one statement; default 2000. */
  maxHeartbeatsPerStatement?: number;
}

interface Waiting {
  heartbeat: Heartbeat;
  resolve: (stale: LeaseRef[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes the heartbeats of every session on this replica, by group
 * commit: while one statement is in flight, the heartbeats that arrive
 * wait, and the next statement writes them all (last_heartbeat_at and
 * lease renewals for every agent of the round, see
 * renewLeasesOfHeartbeats). A lone heartbeat is written at once; under
 * load there is one statement per round instead of two per heartbeat,
 * so heartbeats take one pool connection, not all of them, and those
 * waiting are a few small objects each here rather than statements in
 * the pool's queue ahead of claims and settles.
 *
 * The cost: a round waits for every row it updates, so a lease row
 * locked by a slow settle transaction delays the whole round's answers,
 * not only its own agent's.
 *
 * A heartbeat is answered only once its round is stored. If a round's
 * statement fails, each of its heartbeats is written alone, so one
 * agent's bad data fails only that agent's heartbeat.
 */
export class HeartbeatRecorder {
  private pending: Waiting[] = [];
  private writing = false;
  private readonly maxPerStatement: number;

  constructor(private readonly options: HeartbeatRecorderOptions) {
    this.maxPerStatement = options.maxHeartbeatsPerStatement ?? 2000;
    if (!(this.maxPerStatement >= 1)) {
      throw new RangeError(
        "maxHeartbeatsPerStatement: must be at least 1, got " +
          String(options.maxHeartbeatsPerStatement),
      );
    }
  }

  /**
   * Records one heartbeat; resolves, once it is stored, with the leases
   * it named that the agent no longer holds (stale).
   */
  record(heartbeat: Heartbeat): Promise<LeaseRef[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ heartbeat, resolve, reject });
      if (!this.writing) void this.writeRounds();
    });
  }

  private async writeRounds(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const round = this.pending.splice(0, this.maxPerStatement);
        await this.writeRound(round);
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeRound(round: readonly Waiting[]): Promise<void> {
    try {
      const stale = await renewLeasesOfHeartbeats(
        this.options.db,
        round.map((w) => w.heartbeat),
        UNTIL_STOPPED,
      );
      round.forEach((w, i) => {
        w.resolve(stale[i] ?? []);
      });
      return;
    } catch (error) {
      if (round.length === 1) {
        round[0]?.reject(error);
        return;
      }
      // Not the error itself: drizzle's names the whole statement with
      // every heartbeat of the round in it.
      this.options.logger.warn(
        { heartbeats: round.length, ...causeFields(error) },
        "heartbeat round failed: writing its heartbeats one at a time",
      );
    }
    for (const w of round) {
      try {
        const [stale] = await renewLeasesOfHeartbeats(
          this.options.db,
          [w.heartbeat],
          UNTIL_STOPPED,
        );
        w.resolve(stale ?? []);
      } catch (error) {
        w.reject(error);
      }
    }
  }
}

/** The innermost cause's SQLSTATE and message (cut short), for a log. */
function causeFields(error: unknown): { code?: string; reason: string } {
  const { message, code } = rootCause(error);
  return { ...(code ? { code } : {}), reason: message.slice(0, 200) };
}
