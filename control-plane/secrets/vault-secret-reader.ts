import type { SecretSource } from "../../workflow/index.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";

type VaultSource = Extract<SecretSource, { provider: "vault" }>;

/** How the control plane reaches Vault. */
export interface VaultOptions {
  /** Vault's base URL, e.g. "https://vault.internal:8200". */
  addr: string;
  token: string;
  /** Sent as X-Vault-Namespace (Vault Enterprise); none when empty. */
  namespace?: string | undefined;
}

/**
 * The `vault` provider: HashiCorp Vault's KV version 2 engine over HTTP,
 * `GET {addr}/v1/{mount}/data/{path}` with X-Vault-Token; the value is
 * `data.data[key]` of the answer. Strings are given as they are, other
 * JSON values as JSON text.
 */
export class VaultSecretReader implements SecretReader<VaultSource> {
  constructor(private readonly options: VaultOptions | undefined) {}

  async read(source: VaultSource, signal: AbortSignal): Promise<string> {
    const options = this.options;
    if (options === undefined) {
      throw new SecretProviderError(
        "no Vault is configured (set --vault-addr and --vault-token, or " +
          "VAULT_ADDR and VAULT_TOKEN)",
        "secret_provider_not_configured",
      );
    }
    const url = dataUrl(options.addr, source);
    const where = `${source.mount}/${source.path}`;
    const headers: Record<string, string> = { "X-Vault-Token": options.token };
    if (options.namespace) headers["X-Vault-Namespace"] = options.namespace;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal, redirect: "error" });
    } catch (error) {
      throw new SecretProviderError(
        signal.aborted
          ? `Vault did not answer in time for ${where}`
          : `Vault at ${options.addr} cannot be reached (${causeOf(error)})`,
        "secret_provider_unavailable",
        { cause: error },
      );
    }
    const body = await readJson(response);
    checkStatus(response.status, where, options.addr);
    return valueAt(body, where, source.key);
  }
}

/** {addr}/v1/{mount}/data/{path}, each path segment percent-encoded. */
function dataUrl(addr: string, source: VaultSource): string {
  const encode = (path: string) =>
    path.split("/").map(encodeURIComponent).join("/");
  const base = addr.endsWith("/") ? addr : `${addr}/`;
  return new URL(
    `v1/${encode(source.mount)}/data/${encode(source.path)}`,
    base,
  ).toString();
}

function checkStatus(status: number, where: string, addr: string): void {
  if (status === 200) return;
  if (status === 404) {
    throw new SecretProviderError(
      `Vault has no secret at ${where}`,
      "secret_not_found",
    );
  }
  if (status === 403 || status === 401) {
    throw new SecretProviderError(
      `Vault refused to read ${where} (HTTP ${status}: check the token ` +
        "and its policy)",
      "secret_access_denied",
    );
  }
  throw new SecretProviderError(
    `Vault at ${addr} answered HTTP ${status} for ${where}`,
    "secret_provider_unavailable",
  );
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    // Vault's errors are JSON, but a proxy's may not be; the status says
    // what happened, so an unreadable body is not a failure on its own.
    return undefined;
  }
}

function valueAt(body: unknown, where: string, key: string): string {
  const data = (body as { data?: { data?: unknown } } | undefined)?.data?.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new SecretProviderError(
      `Vault's answer for ${where} is not a KV version 2 secret ` +
        "(is the mount a KV v2 engine?)",
      "secret_provider_unavailable",
    );
  }
  const value = (data as Record<string, unknown>)[key];
  if (!Object.hasOwn(data, key) || value === null || value === undefined) {
    throw new SecretProviderError(
      `Vault's secret at ${where} has no key "${key}"`,
      "secret_not_found",
    );
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  if (typeof cause?.code === "string") return cause.code;
  return error instanceof Error ? error.message : String(error);
}
