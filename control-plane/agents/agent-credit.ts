import type { Credit } from "../../gen/deerflow/v1/agent_pb.js";

/**
 * How much work one agent can take, as its credits tell it. A credit
 * states the agent's free slots and how many assignments it had received
 * by then; assignments sent since are in flight and not yet counted in
 * it. Results that arrive after the credit each freed a slot the next
 * credit will announce: a hand-off may use those slots before it comes.
 */
export class AgentCredit {
  private free = 0;
  private receivedAtCredit = 0;
  private resultsSinceCredit = 0;
  private sent = 0;
  private drainingNow = false;

  /**
   * Takes the agent's latest credit; it replaces every earlier one. An
   * agent has no more free slots than the `slots` its hello gave.
   */
  take(credit: Credit, slots: number): void {
    this.free = Math.min(slots, Math.max(0, credit.freeSlots));
    // An agent cannot have received more than was sent.
    this.receivedAtCredit = Math.min(
      this.sent,
      Number(credit.assignmentsReceived),
    );
    this.resultsSinceCredit = 0;
    this.drainingNow = credit.draining;
  }

  /** The agent said it is draining: it takes no new work. */
  get draining(): boolean {
    return this.drainingNow;
  }

  /** Counts assignments sent to the agent. */
  assigned(count: number): void {
    this.sent += count;
  }

  /** Counts a result the agent sent after its latest credit. */
  resultSinceCredit(): void {
    this.resultsSinceCredit += 1;
  }

  /** The latest credit, less the assignments sent that it did not count. */
  freeSlots(): number {
    const inFlight = this.sent - this.receivedAtCredit;
    return Math.max(0, this.free - inFlight);
  }

  /** Slots freed by results since the latest credit, at most `slots`. */
  freedSinceCredit(slots: number): number {
    return Math.min(this.resultsSinceCredit, slots);
  }
}
