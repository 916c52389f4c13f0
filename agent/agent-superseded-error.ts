import type { ConnectError } from "@connectrpc/connect";

/**
 * The agent stopped because the control plane took its session for a
 * newer one of the same agent id: two processes run as one agent (a
 * copied --state-dir, a cloned host). RunningAgent.closed rejects with it.
 */
export class AgentSupersededError extends Error {
  override readonly name = "AgentSupersededError";
  constructor(
    readonly agentId: string,
    cause: ConnectError,
  ) {
    super(
      `agent ${agentId} stopped: ${cause.rawMessage}. Another process ` +
        "runs as this agent id (a copied --state-dir or a cloned host?); " +
        "give each agent its own state dir",
      { cause },
    );
  }
}
