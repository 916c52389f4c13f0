import type { Clock, Logger } from "../../core/index.js";
import type { Db } from "../db/index.js";
import type { AssignmentSecrets } from "../secrets/assignment-secrets.js";
import { type ClaimedAssignment, claimTasks } from "./claim-tasks.js";

/** What the dispatcher needs of one connected agent's session. */
export interface DispatchTarget {
  readonly sessionId: string;
  readonly agentId: string;
  readonly taskTypes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Whether the agent takes new work (not cordoned, not draining). */
  accepting(): boolean;
  /** Free slots, less assignments sent and not yet acknowledged. */
  freeSlots(): number;
  /** Hands over assignments; the session sends them on its stream. */
  deliver(assignments: readonly ClaimedAssignment[]): void;
}

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  leaseTtlMs: number;
  ackDeadlineMs: number;
  /** A pass also runs this often, in case a wakeup was missed; default 1000. */
  idlePassIntervalMs?: number;
  /** Resolves claimed tasks' secrets before delivery; none without it. */
  secrets?: AssignmentSecrets | undefined;
}

/**
 * Matches queued tasks to the agents connected to this replica. A pass
 * claims, for each agent with free slots, up to that many fitting tasks in
 * one statement. Passes run one at a time; a wakeup during a pass causes
 * one more pass after it.
 */
export class Dispatcher {
  private readonly targets = new Map<string, DispatchTarget>();
  private running = false;
  private again = false;
  private readonly abort = new AbortController();
  private idleLoop: Promise<void> | undefined;

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    this.idleLoop ??= this.runIdleLoop();
  }

  add(target: DispatchTarget): void {
    this.targets.set(target.sessionId, target);
    this.wake();
  }

  remove(sessionId: string): void {
    this.targets.delete(sessionId);
  }

  /** Asks for a pass soon. Cheap; call it on every hint of new work. */
  wake(): void {
    if (this.abort.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.passUntilQuiet();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.idleLoop;
  }

  private async passUntilQuiet(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.abort.signal.aborted);
    } catch (error) {
      if (!this.abort.signal.aborted) {
        this.options.logger.error({ err: error }, "dispatch pass failed");
      }
    } finally {
      this.running = false;
    }
  }

  /** Serves the agents with the most free slots first, to spread load. */
  private async pass(): Promise<void> {
    const ready = [...this.targets.values()]
      .filter((t) => t.accepting() && t.freeSlots() > 0)
      .sort((a, b) => b.freeSlots() - a.freeSlots());
    for (const target of ready) {
      if (this.abort.signal.aborted) return;
      const now = new Date(this.options.clock.now());
      const claimed = await this.options.db.transaction((tx) =>
        claimTasks(tx, target, {
          limit: target.freeSlots(),
          leaseTtlMs: this.options.leaseTtlMs,
          ackDeadlineMs: this.options.ackDeadlineMs,
          now,
        }),
      );
      if (claimed.length === 0) continue;
      this.options.logger.debug(
        { agent_id: target.agentId, count: claimed.length },
        "tasks assigned",
      );
      const secrets = this.options.secrets;
      target.deliver(
        secrets ? await secrets.attach(target.agentId, claimed) : claimed,
      );
    }
  }

  private async runIdleLoop(): Promise<void> {
    const interval = this.options.idlePassIntervalMs ?? 1000;
    const { signal } = this.abort;
    while (!signal.aborted) {
      await this.options.clock.sleep(interval, signal);
      this.wake();
    }
  }
}
