import type { SecretSource } from "../../workflow/index.js";

/** Reads secret values of one provider. */
export interface SecretReader<S extends SecretSource = SecretSource> {
  /**
   * The value at `source`. Rejects with a SecretProviderError that says
   * what went wrong without the value; gives up when `signal` aborts.
   */
  read(source: S, signal: AbortSignal): Promise<string>;
}
