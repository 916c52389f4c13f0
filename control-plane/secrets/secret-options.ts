import { homedir } from "node:os";
import { join } from "node:path";
import { SECRET_KEY_ENV } from "./secret-key.js";

/**
 * Secret settings of a control-plane replica. Each is also a server flag
 * and an environment variable. Replicas sharing a database must share
 * the store's key: give them the same key file or DEERFLOW_SECRET_KEY.
 */
export interface SecretOptions {
  /**
   * The built-in store's key, base64 of 32 bytes; default env
   * DEERFLOW_SECRET_KEY. When set, no key file is read or made.
   */
  key?: string | undefined;
  /**
   * The key file (flag --secret-key-file), made with mode 0600 on first
   * start when absent. Default: `secret.key` in the PGlite data
   * directory, or `~/.deerflow/secret.key` with DATABASE_URL.
   */
  keyFile?: string | undefined;
  /** Vault's base URL (--vault-addr); default env VAULT_ADDR. */
  vaultAddr?: string | undefined;
  /** Vault token (--vault-token); default env VAULT_TOKEN. */
  vaultToken?: string | undefined;
  /** Vault Enterprise namespace; default env VAULT_NAMESPACE. */
  vaultNamespace?: string | undefined;
  /**
   * A kubeconfig for the kubernetes provider (--kubeconfig); default
   * the client's own: KUBECONFIG, ~/.kube/config, or in-cluster.
   */
  kubeconfig?: string | undefined;
  /**
   * Environment variables the env provider may share (--env-secrets):
   * names, or prefixes ending in "*". Default env DEERFLOW_ENV_SECRETS
   * (comma-separated), else none.
   */
  envAllow?: readonly string[] | undefined;
  /** The environment the env provider reads; default process.env. */
  environment?: NodeJS.ProcessEnv | undefined;
  /** How long resolving one task's secrets may take; default 10000 ms. */
  resolveTimeoutMs?: number | undefined;
}

/** Secret settings with every default applied and checked. */
export interface ResolvedSecretOptions {
  key: string | undefined;
  keyFile: string;
  /** Whether keyFile was chosen by the operator rather than defaulted. */
  keyFileExplicit: boolean;
  vault: { addr: string; token: string; namespace?: string } | undefined;
  kubeconfig: string | undefined;
  envAllow: readonly string[];
  environment: NodeJS.ProcessEnv;
  resolveTimeoutMs: number;
}

/** A secret setting out of bounds; the message names the setting. */
export class SecretOptionError extends Error {
  override readonly name = "SecretOptionError";
  readonly code = "secret_option_invalid";
}

const DEFAULT_RESOLVE_TIMEOUT_MS = 10_000;

/** Where the store's key lives on this server, and how it reaches Vault. */
export function resolveSecretOptions(
  options: SecretOptions,
  server: { dataDir: string; databaseUrl: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSecretOptions {
  const keyFile =
    options.keyFile ??
    (server.databaseUrl
      ? join(homedir(), ".deerflow", "secret.key")
      : join(server.dataDir, "secret.key"));
  return {
    key: options.key ?? (env[SECRET_KEY_ENV] || undefined),
    keyFile,
    keyFileExplicit: options.keyFile !== undefined,
    vault: resolveVault(options, env),
    kubeconfig: options.kubeconfig || undefined,
    envAllow: options.envAllow ?? splitList(env.DEERFLOW_ENV_SECRETS),
    environment: options.environment ?? env,
    resolveTimeoutMs: boundedTimeout(options.resolveTimeoutMs),
  };
}

function resolveVault(
  options: SecretOptions,
  env: NodeJS.ProcessEnv,
): ResolvedSecretOptions["vault"] {
  const addr = options.vaultAddr ?? (env.VAULT_ADDR || undefined);
  const token = options.vaultToken ?? (env.VAULT_TOKEN || undefined);
  if (addr === undefined && token === undefined) return undefined;
  const addrName = options.vaultAddr !== undefined ? "vaultAddr" : "VAULT_ADDR";
  if (addr === undefined || token === undefined) {
    throw new SecretOptionError(
      addr === undefined
        ? "vaultAddr (or VAULT_ADDR) is required with a Vault token"
        : `vaultToken (or VAULT_TOKEN) is required with ${addrName}`,
    );
  }
  if (!isHttpUrl(addr)) {
    throw new SecretOptionError(
      `${addrName} must be an http(s) URL (e.g. https://vault:8200), ` +
        `got "${addr}"`,
    );
  }
  const namespace = options.vaultNamespace ?? env.VAULT_NAMESPACE;
  return namespace ? { addr, token, namespace } : { addr, token };
}

function boundedTimeout(value: number | undefined): number {
  const ms = value ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  if (!Number.isFinite(ms) || ms < 100 || ms > 300_000) {
    throw new SecretOptionError(
      `resolveTimeoutMs must be between 100 and 300000, got ${ms}`,
    );
  }
  return ms;
}

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}
