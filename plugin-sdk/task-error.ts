/**
 * Why an attempt failed, as a retry policy sees it (SPEC §3 `retry_on`):
 * `error`, `timeout`, `lost`, `5xx`, `429`, or `exit_code:N`.
 */
export type RetryClass = string;

export interface TaskErrorOptions {
  /** False skips the task's remaining attempts. Default true. */
  retryable?: boolean;
  /** Default "error". */
  retryClass?: RetryClass;
  exitCode?: number;
  /** Milliseconds the server asked to wait (Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failed attempt, with how the retry policy should treat it. */
export class TaskError extends Error {
  override readonly name: string = "TaskError";
  readonly retryable: boolean;
  readonly retryClass: RetryClass;
  readonly exitCode: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: TaskErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
    this.retryClass = options.retryClass ?? "error";
    this.exitCode = options.exitCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A failure no further attempt can fix (bad config, a 404, ...). */
export class NonRetryableError extends TaskError {
  override readonly name = "NonRetryableError";

  constructor(
    message: string,
    options: Omit<TaskErrorOptions, "retryable"> = {},
  ) {
    super(message, { ...options, retryable: false });
  }
}
