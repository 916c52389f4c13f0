/**
 * A sleep that can be cut short: the Job watcher sleeps between looks at
 * the Job, and a log stream that ends (its container stopped) wakes it to
 * look again at once. A wake with nobody asleep makes the next sleep
 * return at once, so no wake is lost between two sleeps.
 */
export class Alarm {
  #ring: (() => void) | undefined;
  #pending = false;

  /** Ends the current sleep, or the next one if none is running. */
  wake(): void {
    if (this.#ring) this.#ring();
    else this.#pending = true;
  }

  /** Resolves after `ms`, on {@link wake}, or when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending || signal.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const ring = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", ring);
        this.#ring = undefined;
        resolve();
      };
      const timer = setTimeout(ring, ms);
      signal.addEventListener("abort", ring, { once: true });
      this.#ring = ring;
    });
  }
}
