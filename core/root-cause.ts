/** An error's innermost cause, as a log line or an answer shows it. */
export interface RootCause {
  message: string;
  /** A SQLSTATE ("23505") or a Node code ("ECONNREFUSED"), if it has one. */
  code?: string;
}

/** Causes followed at most, so a cycle of causes cannot loop. */
const MAX_DEPTH = 8;

/**
 * The innermost cause of `error`: drizzle wraps the driver's error in
 * one of its own whose message is the statement and its parameters
 * ("Failed query: ..."), where what went wrong is PostgreSQL's (or the
 * socket's) words in its `cause`.
 */
export function rootCause(error: unknown): RootCause {
  let root = error;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const cause = (root as { cause?: unknown } | null | undefined)?.cause;
    if (cause === undefined || cause === null) break;
    root = cause;
  }
  const code = (root as { code?: unknown } | null | undefined)?.code;
  return {
    message: root instanceof Error ? root.message : String(root),
    ...(typeof code === "string" ? { code } : {}),
  };
}
