import type { Logger } from "../../core/index.js";
import type { Database } from "../db/index.js";
import { Channels } from "../notify/channels.js";

/** A watcher's wakeup for one run. */
export interface RunSubscription {
  /**
   * Resolves when the run's history may have grown since the last call,
   * after `fallbackMs` at the latest, or when the signal aborts.
   */
  changed(signal: AbortSignal, fallbackMs?: number): Promise<void>;
  close(): void;
}

/**
 * Fans one LISTEN on the run-event channel (or on a few channels) out to
 * this replica's watchers, by run id. A wakeup only says "look again"; watchers read
 * the history from the table, so a lost notification costs latency, not
 * events.
 */
export class RunEventHub {
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly unlistens: Array<() => Promise<void>> = [];

  /**
   * `channels` are those whose payload is a run id and that wake its
   * watchers: the run-event channel, and for log followers also the
   * task-log channel.
   */
  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly channels: readonly string[] = [Channels.runEvent],
  ) {}

  async start(): Promise<void> {
    for (const channel of this.channels) {
      this.unlistens.push(
        await this.database.listen(channel, (runId) => this.notify(runId)),
      );
    }
  }

  async stop(): Promise<void> {
    for (const unlisten of this.unlistens.splice(0)) {
      await unlisten().catch((error: unknown) => {
        this.logger.debug({ err: error }, "unlisten failed");
      });
    }
    for (const set of this.watchers.values()) for (const wake of set) wake();
    this.watchers.clear();
  }

  /** Wakes this replica's watchers of a run. */
  notify(runId: string): void {
    for (const wake of this.watchers.get(runId) ?? []) wake();
  }

  subscribe(runId: string): RunSubscription {
    let dirty = false;
    let resolveWait: (() => void) | undefined;
    const wake = () => {
      dirty = true;
      resolveWait?.();
    };
    const set = this.watchers.get(runId) ?? new Set();
    set.add(wake);
    this.watchers.set(runId, set);
    return {
      changed: (signal, fallbackMs = 2000) => {
        if (dirty || signal.aborted) {
          dirty = false;
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolveWait = undefined;
            dirty = false;
            resolve();
          };
          const timer = setTimeout(done, fallbackMs);
          signal.addEventListener("abort", done, { once: true });
          resolveWait = done;
        });
      },
      close: () => {
        set.delete(wake);
        if (set.size === 0) this.watchers.delete(runId);
      },
    };
  }
}
