import type { SecretSource } from "../../workflow/index.js";
import { SecretDecryptError } from "./secret-cipher.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";
import type { SecretStore } from "./secret-store.js";

type StoreSource = Extract<SecretSource, { provider: "store" }>;

/** The `store` provider: the control plane's built-in store. */
export class StoreSecretReader implements SecretReader<StoreSource> {
  constructor(private readonly store: SecretStore) {}

  async read(source: StoreSource): Promise<string> {
    let value: string | undefined;
    try {
      value = await this.store.read(source.name);
    } catch (error) {
      if (error instanceof SecretDecryptError) {
        throw new SecretProviderError(
          error.message,
          "secret_provider_unavailable",
          { cause: error },
        );
      }
      throw error;
    }
    if (value === undefined) {
      throw new SecretProviderError(
        `the built-in store has no secret ${source.name} (add it with: ` +
          `deerflow secrets put ${source.name})`,
        "secret_not_found",
      );
    }
    return value;
  }
}
