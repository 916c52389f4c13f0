/** The states of an agent as the control plane sees it. */
export type AgentStateName =
  /** Holds a stream and takes work. */
  | "CONNECTED"
  /** Holds a stream but takes no new work. */
  | "CORDONED"
  /** Finishing its attempts before it exits. */
  | "DRAINING"
  /** No stream is open. */
  | "DISCONNECTED";
