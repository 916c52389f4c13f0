/** How long the agent waits between attempts to open its stream. */
export interface ReconnectPolicy {
  /** The ceiling of the first delay. Default 250. */
  initialDelayMs: number;
  /** The largest ceiling any delay may have. Default 10 000. */
  maxDelayMs: number;
}

/** The defaults of SPEC §5: 250 ms doubling up to 10 s. */
export const defaultReconnectPolicy: ReconnectPolicy = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 10_000,
});

/**
 * The delay before reconnect number `failures` (0 for the first retry after
 * a drop), with full jitter: a uniform pick in [0, ceiling), where the
 * ceiling doubles with each failure up to `maxDelayMs`. Full jitter spreads
 * a fleet of agents that lost the same control plane at the same moment.
 *
 * `random` returns a number in [0, 1), like Math.random.
 */
export function reconnectDelayMs(
  failures: number,
  policy: ReconnectPolicy,
  random: () => number = Math.random,
): number {
  // Past 2^30 the ceiling is long since capped; avoid Infinity arithmetic.
  const exponent = Math.min(Math.max(0, Math.floor(failures)), 30);
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * 2 ** exponent,
  );
  const pick = Math.min(Math.max(random(), 0), 1);
  return Math.floor(pick * ceiling);
}

/**
 * The ceiling of reconnect delays while the agent holds leases: four
 * tries a heartbeat interval (1.25 s at the default lease TTL of 30 s),
 * and never below the first delay. The agent kills an attempt whose
 * lease it could not renew for the lease's TTL; up to the policy's 10 s
 * between tries, a control plane back after a short restart or database
 * outage could find the agent still waiting while its attempts died.
 */
export function holdingMaxDelayMs(
  policy: ReconnectPolicy,
  heartbeatIntervalMs: number,
): number {
  return Math.min(
    policy.maxDelayMs,
    Math.max(policy.initialDelayMs, Math.floor(heartbeatIntervalMs / 4)),
  );
}
