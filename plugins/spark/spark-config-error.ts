/**
 * A config value the plugin cannot use although the schema let it pass
 * at submit time (a template rendered into a bad value, a cluster deploy
 * mode with a local master, ...). `field` names it as submit-time errors
 * do, "config.executor_cores"; the plugin turns it into a
 * NonRetryableError, since no retry can fix a config.
 */
export class SparkConfigError extends Error {
  override readonly name = "SparkConfigError";
  readonly code = "invalid_config";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
