import type { Clock, Logger } from "../../core/index.js";
import type { Db } from "../db/index.js";
import { EnvSecretReader } from "./env-secret-reader.js";
import { KubernetesSecretReader } from "./kubernetes-secret-reader.js";
import { loadSecretKey, SecretKeyError } from "./secret-key.js";
import type { ResolvedSecretOptions } from "./secret-options.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";
import { SecretResolver } from "./secret-resolver.js";
import { SecretStore } from "./secret-store.js";
import { StoreSecretReader } from "./store-secret-reader.js";
import { VaultSecretReader } from "./vault-secret-reader.js";

/** The secrets part of a running control plane. */
export interface Secrets {
  /**
   * The built-in store; undefined when it has no key (the default key
   * file could not be made), with the reason in `storeProblem`.
   */
  store: SecretStore | undefined;
  storeProblem: string | undefined;
  resolver: SecretResolver;
}

/**
 * Loads the store's key and builds the providers. A key the operator
 * gave (DEERFLOW_SECRET_KEY, --secret-key-file) that is wrong, and any
 * existing key file that is malformed or readable by others, stop the
 * start. Only when the default key file cannot be made does the server
 * start without a store, saying why, so a server that keeps no secrets
 * does not need a writable home directory.
 */
export async function openSecrets(
  options: ResolvedSecretOptions,
  deps: { db: Db; clock: Clock; logger: Logger },
): Promise<Secrets> {
  // Not `component`: the process's logger binds that already, and pino
  // would write the key twice on every line.
  const log = deps.logger.child({ subsystem: "secrets" });
  let store: SecretStore | undefined;
  let storeProblem: string | undefined;
  try {
    const loaded = await loadSecretKey({
      envValue: options.key,
      keyFile: options.keyFile,
    });
    store = new SecretStore(deps.db, loaded.key, deps.clock);
    log.info(
      { key_source: loaded.source, key_id: loaded.key.id },
      loaded.created ? "secret key file created" : "secret key loaded",
    );
    await warnOfOtherKeys(store, log);
  } catch (error) {
    const uncreatable =
      error instanceof SecretKeyError &&
      error.code === "secret_key_uncreatable" &&
      !options.keyFileExplicit;
    if (!uncreatable) throw error;
    storeProblem = `the secret store has no key: ${error.message}`;
    log.warn({ err: error }, "secret store disabled: no key");
  }
  const resolver = new SecretResolver(
    {
      store: store ? new StoreSecretReader(store) : unavailable(storeProblem),
      env: new EnvSecretReader(options.envAllow, options.environment),
      vault: new VaultSecretReader(options.vault),
      kubernetes: new KubernetesSecretReader({
        kubeconfig: options.kubeconfig,
      }),
    },
    options.resolveTimeoutMs,
  );
  return { store, storeProblem, resolver };
}

/** Values another key made cannot be read here: say so at start. */
async function warnOfOtherKeys(store: SecretStore, log: Logger) {
  const others = await store.countOtherKeys();
  if (others > 0) {
    log.warn(
      { secrets: others },
      "stored secrets were encrypted with another key; replicas sharing " +
        "a database must share the secret key",
    );
  }
}

function unavailable(problem: string | undefined): SecretReader {
  return {
    read: async () => {
      throw new SecretProviderError(
        problem ?? "the secret store is unavailable",
        "secret_provider_not_configured",
      );
    },
  };
}
