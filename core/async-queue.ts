import { type Packing, takePacked } from "./packing.js";

/**
 * An unbounded queue that one consumer reads as an async iterable. Used to
 * merge messages from several producers into one outgoing stream.
 *
 * With `packing`, a read takes what queued up by then, within the
 * packing's limits: several items come out packed, one as itself. Items
 * pushed in one turn of the event loop while the reader waits come out
 * together.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private handOffDue = false;
  private closed = false;
  private failure: unknown;

  /** Packs several items into one; unset, items come out one by one. */
  packing: Packing<T> | undefined;

  /** Adds an item; ignored after close. */
  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    if (this.waiter === undefined) return;
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

  /** Ends the iteration after the queued items; with `error`, fails it. */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    if (this.waiter && this.items.length === 0) {
      const resolve = this.waiter;
      this.waiter = undefined;
      if (error === undefined) resolve({ value: undefined, done: true });
      else resolve(Promise.reject(error) as never);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.take();
        continue;
      }
      if (this.closed) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      const next = await new Promise<IteratorResult<T>>((resolve) => {
        this.waiter = resolve;
      });
      if (next.done) return;
      yield next.value;
    }
  }

  private handOff(): void {
    const resolve = this.waiter;
    if (resolve === undefined || this.items.length === 0) return;
    this.waiter = undefined;
    resolve({ value: this.take(), done: false });
  }

  private take(): T {
    return takePacked(this.items, this.packing);
  }
}
