/** Options of a {@link TemplateError}. */
export interface TemplateErrorOptions {
  /** The config field (dotted path) the template sits in. */
  field?: string;
  cause?: unknown;
}

/**
 * A template or CEL expression that cannot be parsed, evaluated or written
 * into its field. `field` names the config field when there is one.
 */
export class TemplateError extends Error {
  readonly field?: string;

  constructor(message: string, options: TemplateErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "TemplateError";
    if (options.field !== undefined) this.field = options.field;
  }
}
