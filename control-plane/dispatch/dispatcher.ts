import type { Clock, Logger } from "../../core/index.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { Db } from "../db/index.js";
import { leasesGranted } from "../metrics/process-metrics.js";
import type { Pipelined } from "../scheduler/pipelined.js";
import type { AssignmentSecrets } from "../secrets/assignment-secrets.js";
import {
  type Claim,
  type ClaimAnswer,
  type ClaimedAssignment,
  type ClaimOptions,
  claimTasks,
  completeClaim,
  sendClaim,
} from "./claim-tasks.js";

/** What the dispatcher needs of one connected agent's session. */
export interface DispatchTarget {
  readonly sessionId: string;
  readonly agentId: string;
  /** Read once per session: neither may change while it lasts. */
  readonly taskTypes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** What the agent advertised of its resources, as its row stores it. */
  readonly resources?: Readonly<JsonObject>;
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
 * A claim for one agent made inside a transaction of someone else's (see
 * {@link Dispatcher.handOff}).
 */
export interface HandOff {
  /**
   * Sends a claim of up to the agent's free slots on `writes`, as one of
   * the last statements of `tx` ({@link sendClaim}); call once. The
   * transaction must wait for `writes`, or commit behind them.
   */
  send(tx: Db, writes: Pipelined): void;
  /**
   * Delivers what was claimed if the transaction committed, and frees
   * the agent for other claims. Call once, after the transaction ended.
   */
  finish(committed: boolean): Promise<void>;
}

/**
 * Matches queued tasks to the agents connected to this replica. A pass
 * claims, for each agent with free slots, up to that many fitting tasks in
 * one statement. Passes run one at a time; a wakeup during a pass causes
 * one more pass after it.
 *
 * An agent whose last claim ran the queue dry is skipped until tasks may
 * have been queued again ({@link queueChanged}): its credits alone do not
 * cost a claim that would find nothing. One that passed over tasks only
 * for want of free resources is skipped until then too, or until its
 * results free some ({@link roomFreed}). A claim depends only on the
 * agent's task types, labels and resources, so within a pass one dry
 * claim stands for every agent that provides the same (thousands of identical agents
 * would otherwise each make an empty claim). The idle pass claims for
 * every agent, in case a change went unannounced.
 */
export class Dispatcher {
  private readonly targets = new Map<string, DispatchTarget>();
  private running = false;
  private again = false;
  private everyAgentAgain = false;
  /** Grows each time tasks may have been queued. */
  private queueVersion = 0;
  /** Per session, the queueVersion at which its claim ran the queue dry. */
  private readonly dryAt = new Map<string, number>();
  /**
   * Sessions dry only for want of free resources: their next result may
   * free some ({@link roomFreed}).
   */
  private readonly waitingForRoom = new Set<string>();
  /** Sessions with a claim in flight: one at a time, or slots double up. */
  private readonly claiming = new Set<string>();
  /** Reserved sessions a pass skipped: a pass is owed once they are free. */
  private readonly passedBy = new Set<string>();
  private readonly abort = new AbortController();
  private idleLoop: Promise<void> | undefined;
  private passes: Promise<void> = Promise.resolve();
  private readonly queueListeners = new Set<() => void>();

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
    this.dryAt.delete(sessionId);
    this.waitingForRoom.delete(sessionId);
    this.passedBy.delete(sessionId);
  }

  /**
   * Tasks may have been queued (a notification, a result recorded here):
   * every agent is worth a claim again. Then a pass, as {@link wake}.
   */
  queueChanged(): void {
    this.queueVersion += 1;
    for (const listener of this.queueListeners) listener();
    this.wake();
  }

  /**
   * Calls `listener` each time tasks may have been queued (see
   * {@link queueChanged}); returns the function that stops it.
   */
  onQueueChanged(listener: () => void): () => void {
    this.queueListeners.add(listener);
    return () => this.queueListeners.delete(listener);
  }

  /**
   * Asks for a pass soon, for the agents whose claims may find something
   * (see the class). Cheap; call it whenever an agent gains room.
   */
  wake(everyAgent = false): void {
    if (this.abort.signal.aborted) return;
    if (this.running) {
      this.again = true;
      this.everyAgentAgain ||= everyAgent;
      return;
    }
    this.running = true;
    this.passes = this.passUntilQuiet(everyAgent);
  }

  /**
   * Reserves a claim for `target` that the caller makes inside its own
   * transaction, or undefined when the agent has no room or a claim for
   * it is in flight. An agent's session claims this way in the
   * transaction that records its results: the tasks those results queue
   * go straight back to it, without waiting for the transaction's
   * notification and a claim transaction of their own (a chain's hop).
   * `extraSlots` are slots the caller knows are free though the agent has
   * not said so yet (results that came before its credit).
   */
  handOff(target: DispatchTarget, extraSlots = 0): HandOff | undefined {
    const id = target.sessionId;
    if (
      this.abort.signal.aborted ||
      !target.accepting() ||
      target.freeSlots() + extraSlots <= 0 ||
      this.claiming.has(id)
    ) {
      return undefined;
    }
    this.claiming.add(id);
    let sent:
      | { answer: Promise<ClaimAnswer>; limit: number; version: number }
      | undefined;
    return {
      send: (tx, writes) => {
        const limit = target.freeSlots() + extraSlots;
        const options = this.claimOptions(limit);
        const answer = sendClaim(tx, target, options, writes);
        // Read only if the transaction commits: when it fails, the claim's
        // error is the transaction's, and must not go unhandled here
        // (which would end the process).
        answer.catch(() => {});
        sent = { answer, limit, version: this.queueVersion };
      },
      finish: async (committed) => {
        try {
          if (committed && sent) {
            const claim = await completeClaim(
              this.options.db,
              await sent.answer,
              sent.limit,
            );
            this.noteClaim(target, claim, sent.version);
            const claimed = claim.assignments;
            if (claimed.length > 0) await this.deliver(target, claimed);
          }
        } finally {
          this.claiming.delete(id);
          if (this.passedBy.delete(id)) this.wake();
        }
      },
    };
  }

  /**
   * A hand-off to the agent with the most free slots, for a transaction
   * that queues tasks (a run's start): its first tasks go out without
   * waiting for the notification and a claim of their own.
   */
  handOffToAny(): HandOff | undefined {
    let best: DispatchTarget | undefined;
    for (const target of this.targets.values()) {
      if (this.claiming.has(target.sessionId) || !target.accepting()) continue;
      if (best === undefined || target.freeSlots() > best.freeSlots()) {
        best = target;
      }
    }
    return best === undefined ? undefined : this.handOff(best);
  }

  /**
   * The agent of `sessionId` reported results: what its attempts held is
   * free again. An agent whose last claim passed over tasks for want of
   * free resources is worth a claim again; then a pass, as {@link wake}.
   */
  roomFreed(sessionId: string): void {
    if (this.waitingForRoom.delete(sessionId)) {
      this.dryAt.delete(sessionId);
      this.wake();
    }
  }

  /** Resolves when no pass is running (or asked for). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.passes;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.idleLoop;
  }

  private async passUntilQuiet(everyAgent: boolean): Promise<void> {
    try {
      let all = everyAgent;
      for (;;) {
        this.again = false;
        this.everyAgentAgain = false;
        await this.pass(all);
        if (!this.again || this.abort.signal.aborted) break;
        all = this.everyAgentAgain;
      }
    } catch (error) {
      if (!this.abort.signal.aborted) {
        this.options.logger.error({ err: error }, "dispatch pass failed");
      }
    } finally {
      this.running = false;
    }
  }

  /** Serves the agents with the most free slots first, to spread load. */
  private async pass(everyAgent: boolean): Promise<void> {
    const ready = [...this.targets.values()]
      .filter(
        (t) =>
          t.accepting() &&
          t.freeSlots() > 0 &&
          (everyAgent || this.dryAt.get(t.sessionId) !== this.queueVersion),
      )
      .sort((a, b) => b.freeSlots() - a.freeSlots());
    // Fit keys whose claim ran dry in this pass at the version given.
    const dryKinds = new Map<string, number>();
    for (const target of ready) {
      if (this.abort.signal.aborted) return;
      // Claimed for inside another transaction: served once that ends.
      if (this.claiming.has(target.sessionId)) {
        this.passedBy.add(target.sessionId);
        continue;
      }
      const kind = fitKey(target);
      const dryKind = dryKinds.get(kind);
      if (dryKind !== undefined) {
        // An agent that provides the same would find nothing either.
        this.dryAt.set(target.sessionId, dryKind);
        continue;
      }
      // Read before the claim: a change announced while it runs may have
      // queued tasks the claim did not see.
      const version = this.queueVersion;
      this.claiming.add(target.sessionId);
      try {
        const claim = await this.options.db.transaction((tx) =>
          this.claimFor(tx, target),
        );
        this.noteClaim(target, claim, version);
        if (claim.ranDry) dryKinds.set(kind, version);
        const claimed = claim.assignments;
        if (claimed.length > 0) await this.deliver(target, claimed);
        if (claim.queueEmpty) return;
      } finally {
        this.claiming.delete(target.sessionId);
      }
    }
  }

  private claimFor(tx: Db, target: DispatchTarget): Promise<Claim> {
    return claimTasks(tx, target, this.claimOptions(target.freeSlots()));
  }

  private claimOptions(limit: number): ClaimOptions {
    return {
      limit,
      leaseTtlMs: this.options.leaseTtlMs,
      ackDeadlineMs: this.options.ackDeadlineMs,
      now: new Date(this.options.clock.now()),
    };
  }

  /** Remembers whether a claim made at `version` ran the queue dry. */
  private noteClaim(target: DispatchTarget, claim: Claim, version: number) {
    if (claim.ranDry || claim.waitsForRoom) {
      this.dryAt.set(target.sessionId, version);
    } else {
      this.dryAt.delete(target.sessionId);
    }
    if (claim.waitsForRoom) this.waitingForRoom.add(target.sessionId);
    else this.waitingForRoom.delete(target.sessionId);
    if (claim.queueEmpty) {
      for (const id of this.targets.keys()) this.dryAt.set(id, version);
    }
  }

  private async deliver(
    target: DispatchTarget,
    claimed: ClaimedAssignment[],
  ): Promise<void> {
    this.options.logger.debug(
      { agent_id: target.agentId, count: claimed.length },
      "tasks assigned",
    );
    // Counted here, once the claim's transaction has committed.
    leasesGranted.inc(claimed.length);
    const secrets = this.options.secrets;
    target.deliver(
      secrets ? await secrets.attach(target.agentId, claimed) : claimed,
    );
  }

  private async runIdleLoop(): Promise<void> {
    const interval = this.options.idlePassIntervalMs ?? 1000;
    const { signal } = this.abort;
    while (!signal.aborted) {
      await this.options.clock.sleep(interval, signal);
      this.wake(true);
    }
  }
}

const fitKeys = new WeakMap<DispatchTarget, string>();

/**
 * What decides which tasks fit an agent: its task types, labels and
 * resources. (A claim that passed over tasks for want of free resources
 * is not dry, so what the agent has free need not be part of it.)
 */
function fitKey(target: DispatchTarget): string {
  let key = fitKeys.get(target);
  if (key === undefined) {
    key = JSON.stringify([target.taskTypes, target.labels, target.resources]);
    fitKeys.set(target, key);
  }
  return key;
}
