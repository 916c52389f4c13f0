/**
 * What a fleet process reports on stdout, one JSON line a second: its
 * counters so far, and the heartbeat round trips it timed since the
 * last line.
 */
export interface FleetStatsLine {
  kind: "fleet-stats";
  /** Agents whose session was welcomed and is still open. */
  connected: number;
  /** Sessions that ended while the process was not stopping. */
  lost: number;
  /** Hellos refused or streams that failed before a welcome. */
  failed: number;
  heartbeats: number;
  heartbeatAcks: number;
  assignments: number;
  /** Results the control plane acknowledged. */
  results: number;
  /** Heartbeat → HeartbeatAck round trips since the last line, in ms. */
  ackLatenciesMs: number[];
  /** The first error seen, for the harness to show. */
  firstError?: string | undefined;
}

/** Parses a fleet stats line; undefined for any other output. */
export function parseFleetStats(line: string): FleetStatsLine | undefined {
  if (!line.startsWith('{"kind":"fleet-stats"')) return undefined;
  try {
    return JSON.parse(line) as FleetStatsLine;
  } catch {
    return undefined;
  }
}
