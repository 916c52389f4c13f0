import { systemClock } from "../core/index.js";
import type { LeaseRef } from "../gen/deerflow/v1/agent_pb.js";
import { Batcher } from "./batcher.js";

/**
 * How long an acknowledgement waits for its attempt's result. A task
 * that ends this soon sends both in one message, and the control plane
 * records RUNNING and the result in one transaction instead of two.
 */
const ACK_LINGER_MS = 2;

/**
 * Holds acknowledgements, briefly, so they go out with their results;
 * `send` gets those whose wait ran out.
 */
export function acknowledgementBatcher(
  send: (leases: LeaseRef[]) => void,
): Batcher<LeaseRef> {
  return new Batcher(
    // The system clock, as for credits: a transport delay, not a lease
    // timing a test steps through.
    // As many as a busy agent starts at once: a full batch goes out
    // before the results it could have gone with.
    { maxItems: 1_000, intervalMs: ACK_LINGER_MS, clock: systemClock },
    send,
  );
}
