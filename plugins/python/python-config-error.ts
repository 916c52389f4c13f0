/**
 * A config value the plugin cannot use although the schema let it pass
 * at submit time (a requirements file that cannot be read, a rendered
 * requirement that is a pip option). `field` names it as submit-time
 * errors do, "config.requirements[0]"; the plugin turns it into a
 * NonRetryableError.
 */
export class PythonConfigError extends Error {
  override readonly name = "PythonConfigError";
  readonly code = "invalid_config";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
