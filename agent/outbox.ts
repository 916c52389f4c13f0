import type { Result } from "../gen/deerflow/v1/agent_pb.js";

/**
 * Results the control plane has not acknowledged yet, by lease id. They
 * survive dropped streams (not agent restarts: the outbox lives in memory)
 * and are sent again after each Welcome until a ResultAck names them.
 */
export class Outbox {
  private readonly results = new Map<string, Result>();
  private emptied: (() => void)[] = [];

  get size(): number {
    return this.results.size;
  }

  add(result: Result): void {
    const leaseId = result.lease?.leaseId;
    if (leaseId === undefined) throw new Error("result.lease is required");
    this.results.set(leaseId, result);
  }

  has(leaseId: string): boolean {
    return this.results.has(leaseId);
  }

  /** Forgets the result of a lease (acknowledged, or refused anyway). */
  remove(leaseId: string): boolean {
    const removed = this.results.delete(leaseId);
    if (this.results.size === 0) {
      const waiting = this.emptied;
      this.emptied = [];
      for (const resolve of waiting) resolve();
    }
    return removed;
  }

  /** Every unacknowledged result, oldest first. */
  pending(): Result[] {
    return [...this.results.values()];
  }

  /** Resolves once no result waits for an acknowledgement. */
  whenEmpty(): Promise<void> {
    if (this.results.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }
}
