import { type Packing, takePacked } from "../core/packing.js";

/**
 * An unbounded queue read as an async iterable: the request side of one
 * session stream. Writers never wait; the stream drains it as fast as
 * HTTP/2 flow control lets it. Ending it ends the iteration.
 *
 * With `packing`, a read takes what queued up by then, within the
 * packing's limits: several items come out packed, one as itself. Items
 * pushed in one turn of the event loop while the reader waits come out
 * together.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private handOffDue = false;
  private ended = false;

  /** Packs several items into one; unset, items come out one by one. */
  packing: Packing<T> | undefined;

  /** False once `end()` was called; pushes are then dropped. */
  get open(): boolean {
    return !this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    if (this.waiting === undefined) return;
    if (this.packing === undefined) {
      this.handOff();
    } else if (!this.handOffDue) {
      // The rest of this turn's pushes join this one.
      this.handOffDue = true;
      queueMicrotask(() => {
        this.handOffDue = false;
        this.handOff();
      });
    }
  }

  /** Ends the iteration; items already queued are dropped. */
  end(): void {
    this.ended = true;
    this.items.length = 0;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) {
          return Promise.resolve({ value: this.take(), done: false });
        }
        if (this.ended) {
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      // Connect requires throw() of a request iterable and calls it when
      // the call fails; for a queue that only means: stop.
      throw: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private handOff(): void {
    const waiting = this.waiting;
    if (waiting === undefined || this.items.length === 0) return;
    this.waiting = undefined;
    waiting({ value: this.take(), done: false });
  }

  private take(): T {
    try {
      return takePacked(this.items, this.packing);
    } catch {
      // An item that cannot be weighed (a value with a getter that
      // throws) goes alone: the reader must never be lost to one item,
      // or the stream would send nothing more, still open.
      return this.items.shift() as T;
    }
  }
}
