/** The states of a lease. */
export type LeaseStateName =
  /** Granted and sent; the agent has not acknowledged yet. */
  | "GRANTED"
  /** Acknowledged; the attempt runs. */
  | "ACTIVE"
  /** A result was recorded. */
  | "RELEASED"
  /** Not renewed in time. */
  | "EXPIRED"
  /** Taken back by the control plane or an operator. */
  | "REVOKED";

/** Lease states that still grant ownership of the attempt. */
export const HELD_LEASE_STATES: readonly LeaseStateName[] = [
  "GRANTED",
  "ACTIVE",
];
