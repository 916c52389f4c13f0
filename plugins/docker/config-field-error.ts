/**
 * A config value the plugin cannot use although the schema let it pass
 * (a quantity of zero, a command that clashes with entrypoint, ...).
 * `field` names it the way submit-time errors do: "config.resources.cpu".
 * The plugin turns it into a NonRetryableError.
 */
export class ConfigFieldError extends Error {
  override readonly name: string = "ConfigFieldError";
  readonly code: string = "invalid_config";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
