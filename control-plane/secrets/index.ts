/**
 * Secrets (SPEC §3): the built-in store encrypted at rest, the providers
 * (store, env, vault, kubernetes) and their resolution at dispatch.
 */
export { AssignmentSecrets } from "./assignment-secrets.js";
export { EnvSecretReader, NEVER_SHARED_ENV } from "./env-secret-reader.js";
export {
  type KubernetesOptions,
  KubernetesSecretReader,
} from "./kubernetes-secret-reader.js";
export { openSecrets, type Secrets } from "./open-secrets.js";
export {
  decryptSecret,
  encryptSecret,
  keyIdOf,
  SecretDecryptError,
} from "./secret-cipher.js";
export {
  type LoadedSecretKey,
  loadSecretKey,
  SECRET_KEY_ENV,
  type SecretKey,
  SecretKeyError,
  secretKeyOf,
} from "./secret-key.js";
export {
  type ResolvedSecretOptions,
  resolveSecretOptions,
  SecretOptionError,
  type SecretOptions,
} from "./secret-options.js";
export {
  SecretProviderError,
  type SecretProviderErrorCode,
} from "./secret-provider-error.js";
export type { SecretReader } from "./secret-reader.js";
export {
  type SecretReaders,
  SecretResolutionError,
  SecretResolver,
  type TaskSecretsRequest,
  taskSecretSources,
} from "./secret-resolver.js";
export { type SecretMetadata, SecretStore } from "./secret-store.js";
export { StoreSecretReader } from "./store-secret-reader.js";
export { type VaultOptions, VaultSecretReader } from "./vault-secret-reader.js";
