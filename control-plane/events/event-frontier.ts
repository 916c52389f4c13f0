import { sql } from "drizzle-orm";
import type { Logger } from "../../core/index.js";
import { type Db, EVENT_NUMBERS_PER_BATCH, rowsOf } from "../db/index.js";

/** How long to wait between looks at the writers still open, at most. */
const MAX_POLL_MS = 50;

/**
 * How long a reading waits for the writers it found, by default. Past it,
 * it goes on without them (and says so): a session that keeps a
 * transaction open after writing events (a person's psql, say) must not
 * stop every watch for as long as it likes. Deer Flow's own transactions
 * commit well within it.
 */
export const MAX_WRITER_WAIT_MS = 5_000;

export interface FrontierOptions {
  /** Told when a reading goes on past writers still open. */
  logger?: Logger | undefined;
  /** How long to wait for writers (default {@link MAX_WRITER_WAIT_MS}). */
  maxWriterWaitMs?: number;
}

/**
 * The highest event number up to which every event is final: committed
 * or rolled back, so a reader that has read up to it and goes on from
 * there misses nothing.
 *
 * Events are numbered when they are inserted and seen when their
 * transaction commits, and not every transaction that writes a run's
 * events holds the run's lock (a claim's ASSIGNED events, due retries'
 * QUEUED ones): an event can commit after a higher-numbered one of the
 * same run. A watcher that had read the higher one and went on from it
 * never saw the other.
 *
 * So the frontier is the last event of the last batch numbered (see
 * run_event_batches in schema.ts), once every transaction that was
 * writing events when it was read has ended. A transaction holds
 * RowExclusiveLock on run_event_batches from before it numbers its first
 * batch until it ends, so reading the last value and
 * then the lock's holders finds every transaction that may still commit
 * an event numbered up to it. Transactions that write no events are not
 * waited for, however long they stay open.
 *
 * Callers of one database in the same turn of the event loop (the
 * watchers of a run, woken by one notification) share one reading, made
 * after they all asked, with the options of the first. `signal`
 * abandons the wait for this caller only. A writer still open after
 * `maxWriterWaitMs` is passed by, with a warning on the logger.
 */
export function settledEventFrontier(
  db: Db,
  signal: AbortSignal,
  options: FrontierOptions = {},
): Promise<number> {
  let reading = nextReading.get(db);
  if (reading === undefined) {
    reading = new SharedReading(db, options, () => nextReading.delete(db));
    nextReading.set(db, reading);
  }
  return reading.join(signal);
}

/** The reading that callers of each database join until it starts. */
const nextReading = new WeakMap<Db, SharedReading>();

/** One frontier reading for every caller that joined before it began. */
class SharedReading {
  private waiting = 0;
  private readonly frontier: Promise<number>;

  constructor(
    private readonly db: Db,
    private readonly options: FrontierOptions,
    closeToJoiners: () => void,
  ) {
    this.frontier = new Promise<void>((resolve) => setImmediate(resolve)).then(
      () => {
        closeToJoiners();
        return this.read();
      },
    );
    // A reading nobody waits for any more ends quietly.
    this.frontier.catch(() => {});
  }

  join(signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.reject(signal.reason);
    this.waiting++;
    return new Promise<number>((resolve, reject) => {
      const leave = () => {
        this.waiting--;
        reject(signal.reason);
      };
      signal.addEventListener("abort", leave, { once: true });
      this.frontier.then(
        (n) => {
          signal.removeEventListener("abort", leave);
          resolve(n);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", leave);
          reject(error);
        },
      );
    });
  }

  private async read(): Promise<number> {
    const [sequence] = rowsOf<{ last: string | number; called: boolean }>(
      await this.db.execute(sql`
        SELECT last_value AS last, is_called AS called
        FROM run_event_batches_sequence_seq`),
    );
    // Every event of the batches numbered up to the last one. Until the
    // sequence is first used, its last value is the first it will give.
    const lastBatch =
      sequence === undefined
        ? 0
        : Number(sequence.last) - (sequence.called ? 0 : 1);
    const last =
      lastBatch <= 0 ? 0 : (lastBatch + 1) * EVENT_NUMBERS_PER_BATCH - 1;
    const started = Date.now();
    let writers = await eventWriters(this.db);
    for (let pauseMs = 2; writers.length > 0; ) {
      if (this.waiting === 0) throw new Error("no one waits for the frontier");
      const maxWaitMs = this.options.maxWriterWaitMs ?? MAX_WRITER_WAIT_MS;
      if (Date.now() - started >= maxWaitMs) {
        this.options.logger?.warn(
          {
            writer_pids: writers.map((w) => w.pid),
            waited_ms: Date.now() - started,
            up_to_sequence: last,
          },
          "watchers go on past transactions still open after writing run events: events they commit later, numbered up to up_to_sequence, reach no watcher already past them",
        );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS);
      writers = await eventWriters(this.db, writers);
    }
    return last;
  }
}

/** A transaction writing events, and its session's process. */
interface EventWriter {
  writer: string;
  pid: number | null;
}

/** Transactions writing events now, of `among` if given. */
async function eventWriters(
  db: Db,
  among?: EventWriter[],
): Promise<EventWriter[]> {
  return rowsOf<EventWriter>(
    await db.execute(sql`
      SELECT DISTINCT virtualtransaction AS writer, pid FROM pg_locks
      WHERE locktype = 'relation'
        AND database = (SELECT oid FROM pg_database
          WHERE datname = current_database())
        AND relation = 'run_event_batches'::regclass
        AND mode = 'RowExclusiveLock'
        AND pid IS DISTINCT FROM pg_backend_pid()
        ${among === undefined ? sql`` : sql`AND virtualtransaction = ANY(${sql.param(among.map((w) => w.writer))}::text[])`}`),
  );
}
