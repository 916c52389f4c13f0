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
  /**
   * How long one PostgreSQL statement may run, lock waits included,
   * before the server cancels it; default env
   * DEERFLOW_STATEMENT_TIMEOUT_MS, else 60000 ms. 0 sends no timeout, so
   * the role's or database's own setting applies. Migrations run without
   * one. PGlite ignores it (see DatabaseOptions).
   */
  statementTimeoutMs?: number | undefined;
  /**
   * How long a PostgreSQL transaction may sit idle, waiting on the
   * control plane, before the server ends its session and so frees its
   * locks; default env DEERFLOW_IDLE_IN_TRANSACTION_TIMEOUT_MS, else
   * 60000 ms. 0 sends none. PGlite ignores it.
   */
  idleInTransactionTimeoutMs?: number | undefined;
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
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
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
  // A 10,000-task StartRun takes under half a second: a statement still
  // running after a minute is stuck behind a lock or a runaway plan.
  statementTimeoutMs: 60_000,
  idleInTransactionTimeoutMs: 60_000,
};

/** The bounds of the lease TTL, in milliseconds. */
export const LEASE_TTL_MS = { min: 1000, max: 3_600_000 };
/** The bounds of the acknowledgement deadline, in milliseconds. */
export const ACK_DEADLINE_MS = { min: 100, max: 3_600_000 };
/**
 * The bounds of the database's statement and idle-in-transaction
 * timeouts, in milliseconds; 0 turns one off.
 */
export const DATABASE_TIMEOUT_MS = { min: 0, max: 86_400_000 };

/** The environment variables of the database timeouts. */
export const STATEMENT_TIMEOUT_ENV = "DEERFLOW_STATEMENT_TIMEOUT_MS";
export const IDLE_IN_TRANSACTION_TIMEOUT_ENV =
  "DEERFLOW_IDLE_IN_TRANSACTION_TIMEOUT_MS";

/** Thrown at start for an option out of its bounds; names the option. */
export class OptionError extends Error {
  override readonly name = "OptionError";
}

export function resolveControlPlaneOptions(
  options: ControlPlaneOptions,
  env: NodeJS.ProcessEnv = process.env,
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
  const databaseUrl = options.databaseUrl ?? (env.DATABASE_URL || undefined);
  const dataDir = options.dataDir ?? DEFAULTS.dataDir;
  return {
    host,
    port,
    databaseUrl,
    dataDir,
    statementTimeoutMs: databaseTimeout(
      "statementTimeoutMs",
      options.statementTimeoutMs,
      STATEMENT_TIMEOUT_ENV,
      env,
      DEFAULTS.statementTimeoutMs,
    ),
    idleInTransactionTimeoutMs: databaseTimeout(
      "idleInTransactionTimeoutMs",
      options.idleInTransactionTimeoutMs,
      IDLE_IN_TRANSACTION_TIMEOUT_ENV,
      env,
      DEFAULTS.idleInTransactionTimeoutMs,
    ),
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

/**
 * A database timeout from its option, else its environment variable,
 * else its default; an unusable value names whichever it came from.
 */
function databaseTimeout(
  name: string,
  value: number | undefined,
  envName: string,
  env: NodeJS.ProcessEnv,
  fallback: number,
): number {
  const { min, max } = DATABASE_TIMEOUT_MS;
  const raw = env[envName];
  const fromEnv = value === undefined && raw !== undefined && raw !== "";
  // Digits only from the environment: "1e3" and " 5" are not what a
  // person setting milliseconds means.
  const n = fromEnv ? digits(raw ?? "") : value;
  if (n === undefined) return fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    const what = fromEnv ? envName : name;
    throw new OptionError(
      `${what} must be a whole number of ms from ${min} to ${max} (0 for none), got ${fromEnv ? `"${raw}"` : n}`,
    );
  }
  return n;
}

function digits(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
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
