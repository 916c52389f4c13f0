import type { Clock } from "../core/index.js";

/** When the Welcome names none. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

/** When and how to beat. */
export interface HeartbeatLoopOptions {
  clock: Clock;
  /** The Welcome's heartbeat_interval_ms. */
  intervalMs: number;
  /** The welcomed stream's signal: no heartbeat outlives its stream. */
  signal: AbortSignal;
  /** Sends one heartbeat. */
  beat(): void;
}

/**
 * Sends a heartbeat at once, then one every interval, until the stream
 * ends. The first goes out at once because leases were not renewed while
 * the agent was away: waiting a whole interval after a Welcome would eat
 * into what is left of their TTL. Heartbeats stop with their stream, so
 * none is sent while disconnected, where it would only be dropped.
 */
export async function runHeartbeats(
  options: HeartbeatLoopOptions,
): Promise<void> {
  const { clock, intervalMs, signal, beat } = options;
  while (!signal.aborted) {
    beat();
    await clock.sleep(intervalMs, signal);
  }
}
