/**
 * An unbounded queue read as an async iterable: the request side of one
 * session stream. Writers never wait; the stream drains it as fast as
 * HTTP/2 flow control lets it. Ending it ends the iteration.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;

  /** False once `end()` was called; pushes are then dropped. */
  get open(): boolean {
    return !this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.items.push(item);
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
          const item = this.items.shift() as T;
          return Promise.resolve({ value: item, done: false });
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
}
