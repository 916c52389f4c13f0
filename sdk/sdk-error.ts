/**
 * What went wrong, for code that handles SDK errors:
 * - `invalid_option`: a client option is missing or out of bounds;
 * - `invalid_workflow`: a workflow or one of its tasks cannot become a
 *   definition (bad id, duplicate id, unknown dependency, a value that is
 *   not JSON);
 * - `invalid_request`: a convenience call got contradictory arguments;
 * - `run_not_found`: the run a call names does not exist.
 * Errors from the API itself stay `ConnectError`s with their gRPC code.
 */
export type SdkErrorCode =
  | "invalid_option"
  | "invalid_workflow"
  | "invalid_request"
  | "run_not_found";

/** Options of {@link SdkError}. */
export interface SdkErrorOptions {
  /** The field at fault, as a dotted path ("tasks[2].depends_on[0]"). */
  field?: string;
  cause?: unknown;
}

/**
 * The one error class the SDK throws for mistakes it finds itself,
 * before anything reaches the server. The message names the field.
 */
export class SdkError extends Error {
  override readonly name = "SdkError";
  readonly code: SdkErrorCode;
  readonly field: string | undefined;

  constructor(code: SdkErrorCode, message: string, options?: SdkErrorOptions) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.field = options?.field;
  }
}
