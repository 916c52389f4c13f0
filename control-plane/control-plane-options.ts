import type { Clock, Logger } from "../core/index.js";
import {
  type ResolvedSecretOptions,
  resolveSecretOptions,
  type SecretOptions,
} from "./secrets/secret-options.js";

/** Settings of one control-plane replica. */
export interface ControlPlaneOptions {
  /** HOST:PORT to serve the API on; default "127.0.0.1:7070". Port 0 picks one. */
  listen?: string;
  /** A postgres:// URL; default DATABASE_URL, else the embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite's data directory; default ".deerflow/data". */
  dataDir?: string | undefined;
  /** How long a lease lives without renewal; default 30000 ms. */
  leaseTtlMs?: number;
  /** How often agents send heartbeats; default 5000 ms (a sixth of the TTL). */
  heartbeatIntervalMs?: number;
  /** How long an agent has to acknowledge an assignment; default 30000 ms. */
  ackDeadlineMs?: number;
  /**
   * How often expired leases and due retries are swept; default 500 ms.
   * Health follows the sweep: NOT_SERVING from a sweep that fails, or
   * when none answered for 10 s or 20 intervals (silentAfterMs).
   */
  sweepIntervalMs?: number;
  /** Names this replica in logs and agent rows; default a random id. */
  replicaId?: string;
  /** The secret store's key and the secret providers (SecretOptions). */
  secrets?: SecretOptions;
  logger?: Logger;
  clock?: Clock;
}

/** Options with every default filled in and every bound checked. */
export interface ResolvedControlPlaneOptions {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  ackDeadlineMs: number;
  sweepIntervalMs: number;
  secrets: ResolvedSecretOptions;
}

const DEFAULTS = {
  listen: "127.0.0.1:7070",
  dataDir: ".deerflow/data",
  leaseTtlMs: 30_000,
  ackDeadlineMs: 30_000,
  sweepIntervalMs: 500,
};

/** The bounds of the lease TTL, in milliseconds. */
export const LEASE_TTL_MS = { min: 1000, max: 3_600_000 };
/** The bounds of the acknowledgement deadline, in milliseconds. */
export const ACK_DEADLINE_MS = { min: 100, max: 3_600_000 };

/** Thrown at start for an option out of its bounds; names the option. */
export class OptionError extends Error {
  override readonly name = "OptionError";
}

export function resolveControlPlaneOptions(
  options: ControlPlaneOptions,
): ResolvedControlPlaneOptions {
  const { host, port } = parseListen(options.listen ?? DEFAULTS.listen);
  const leaseTtlMs = bounded(
    "leaseTtlMs",
    options.leaseTtlMs ?? DEFAULTS.leaseTtlMs,
    LEASE_TTL_MS.min,
    LEASE_TTL_MS.max,
  );
  const heartbeatIntervalMs = bounded(
    "heartbeatIntervalMs",
    options.heartbeatIntervalMs ?? Math.floor(leaseTtlMs / 6),
    100,
    leaseTtlMs / 2,
  );
  const databaseUrl =
    options.databaseUrl ?? (process.env.DATABASE_URL || undefined);
  const dataDir = options.dataDir ?? DEFAULTS.dataDir;
  return {
    host,
    port,
    databaseUrl,
    dataDir,
    leaseTtlMs,
    heartbeatIntervalMs,
    ackDeadlineMs: bounded(
      "ackDeadlineMs",
      options.ackDeadlineMs ?? DEFAULTS.ackDeadlineMs,
      ACK_DEADLINE_MS.min,
      ACK_DEADLINE_MS.max,
    ),
    sweepIntervalMs: bounded(
      "sweepIntervalMs",
      options.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs,
      10,
      60_000,
    ),
    secrets: resolveSecretOptions(options.secrets ?? {}, {
      dataDir,
      databaseUrl,
    }),
  };
}

function bounded(
  name: string,
  value: number,
  min: number,
  max: number,
): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new OptionError(
      `${name} must be between ${min} and ${max}, got ${value}`,
    );
  }
  return value;
}

/** "HOST:PORT", "[::1]:PORT" or ":PORT". */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new OptionError(
      `listen must be HOST:PORT (e.g. 127.0.0.1:7070), got "${listen}"`,
    );
  }
  return { host: match[1] ?? (match[2] || "127.0.0.1"), port };
}
