/** Why a provider gave no value. */
export type SecretProviderErrorCode =
  /** The provider has no such secret, or no such key in it. */
  | "secret_not_found"
  /** The provider refused (permissions, an env name not allowed). */
  | "secret_access_denied"
  /** The provider is not set up on this control plane. */
  | "secret_provider_not_configured"
  /** The provider failed or did not answer in time. */
  | "secret_provider_unavailable"
  /** The value cannot be given to a task (it holds a NUL). */
  | "secret_value_invalid";

/**
 * A provider could not give a secret's value. Messages name where the
 * control plane looked, never a value.
 */
export class SecretProviderError extends Error {
  override readonly name = "SecretProviderError";
  constructor(
    message: string,
    readonly code: SecretProviderErrorCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
