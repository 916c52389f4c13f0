import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";

/** How long to wait between looks at the writers still open, at most. */
const MAX_POLL_MS = 50;

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
 * So the frontier is the event sequence's last value, once every
 * transaction that was writing events when it was read has ended. A
 * transaction holds RowExclusiveLock on run_events from before it
 * numbers its first event until it ends, so reading the last value and
 * then the lock's holders finds every transaction that may still commit
 * an event numbered up to it. Transactions that write no events are not
 * waited for, however long they stay open.
 *
 * Callers of one database in the same turn of the event loop (the
 * watchers of a run, woken by one notification) share one reading, made
 * after they all asked. `signal` abandons the wait for this caller only.
 */
export function settledEventFrontier(
  db: Db,
  signal: AbortSignal,
): Promise<number> {
  let reading = nextReading.get(db);
  if (reading === undefined) {
    reading = new SharedReading(db, () => nextReading.delete(db));
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
        FROM run_events_sequence_seq`),
    );
    const last = sequence?.called ? Number(sequence.last) : 0;
    let writers = await eventWriters(this.db);
    for (let pauseMs = 2; writers.length > 0; ) {
      if (this.waiting === 0) throw new Error("no one waits for the frontier");
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS);
      writers = await eventWriters(this.db, writers);
    }
    return last;
  }
}

/** Transactions writing events now, of `among` if given. */
async function eventWriters(db: Db, among?: string[]): Promise<string[]> {
  const rows = rowsOf<{ writer: string }>(
    await db.execute(sql`
      SELECT DISTINCT virtualtransaction AS writer FROM pg_locks
      WHERE locktype = 'relation'
        AND relation = 'run_events'::regclass
        AND mode = 'RowExclusiveLock'
        AND pid IS DISTINCT FROM pg_backend_pid()
        ${among === undefined ? sql`` : sql`AND virtualtransaction = ANY(${sql.param(among)}::text[])`}`),
  );
  return rows.map((row) => row.writer);
}
