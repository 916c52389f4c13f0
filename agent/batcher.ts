import type { Clock } from "../core/index.js";

/** When a batch goes out. */
export interface BatcherOptions {
  /** A batch this full is sent at once. */
  maxItems: number;
  /** A batch is sent at latest this long after its first item. */
  intervalMs: number;
  clock: Clock;
}

/**
 * Collects items (log lines, metric points) and hands them on in batches,
 * so a chatty task costs one message per batch rather than one per line.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: AbortController | undefined;

  constructor(
    private readonly options: BatcherOptions,
    private readonly send: (items: T[]) => void,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.options.maxItems) {
      this.flush();
    } else if (this.timer === undefined) {
      this.schedule();
    }
  }

  /**
   * Takes the collected items that `match` out of the batch, to be sent
   * by the caller, and leaves the rest to go as they would have.
   */
  take(match: (item: T) => boolean): T[] {
    const taken = this.items.filter(match);
    if (taken.length > 0) {
      this.items = this.items.filter((item) => !match(item));
    }
    return taken;
  }

  /** Sends what is collected now. */
  flush(): void {
    // A reason, so abort() does not build an AbortError nobody reads.
    this.timer?.abort("flushed");
    this.timer = undefined;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.send(batch);
  }

  private schedule(): void {
    const timer = new AbortController();
    this.timer = timer;
    void this.options.clock
      .sleep(this.options.intervalMs, timer.signal)
      .then(() => {
        if (this.timer === timer) this.flush();
      });
  }
}
