/**
 * Quotes a string as one word for a POSIX shell: wrapped in single quotes,
 * inside which nothing is special, and each `'` written as `'\''` (close,
 * an escaped quote, reopen). The empty string becomes `''`.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
