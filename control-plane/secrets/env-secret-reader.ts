import type { SecretSource } from "../../workflow/index.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";

type EnvSource = Extract<SecretSource, { provider: "env" }>;

/**
 * Variables no task may read through the env provider, whatever the
 * allow list says: the control plane's own credentials.
 */
export const NEVER_SHARED_ENV: readonly string[] = [
  "DEERFLOW_SECRET_KEY",
  "DATABASE_URL",
  "VAULT_TOKEN",
];

/**
 * The `env` provider: variables of the control plane's environment. Any
 * caller who may submit a workflow could otherwise read every variable
 * (database passwords, cloud credentials), so only names the server's
 * `envAllow` patterns match are shared: exact names, or prefixes ending
 * in "*" ("APP_*"), or "*" for all but {@link NEVER_SHARED_ENV}.
 */
export class EnvSecretReader implements SecretReader<EnvSource> {
  constructor(
    private readonly allow: readonly string[],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async read(source: EnvSource): Promise<string> {
    const { name } = source;
    if (NEVER_SHARED_ENV.includes(name) || !this.allowed(name)) {
      throw new SecretProviderError(
        `the control plane does not share its environment variable ` +
          `${name} (allowed: ${this.allow.join(", ") || "none"}; set ` +
          "--env-secrets or DEERFLOW_ENV_SECRETS)",
        "secret_access_denied",
      );
    }
    const value = this.env[name];
    if (value === undefined) {
      throw new SecretProviderError(
        `the control plane's environment has no variable ${name}`,
        "secret_not_found",
      );
    }
    return value;
  }

  private allowed(name: string): boolean {
    return this.allow.some((pattern) =>
      pattern.endsWith("*")
        ? name.startsWith(pattern.slice(0, -1))
        : pattern === name,
    );
  }
}
