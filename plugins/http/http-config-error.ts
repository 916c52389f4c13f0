/**
 * A config value the plugin cannot use although the schema let it pass
 * (a TLS file that cannot be read, a rendered URL that does not parse).
 * `field` names it as submit-time errors do, "config.tls.ca"; the plugin
 * turns it into a NonRetryableError.
 */
export class HttpConfigError extends Error {
  override readonly name = "HttpConfigError";
  readonly code = "invalid_config";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
