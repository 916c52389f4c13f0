import type { LineNumbering } from "../agents/session-messages.js";
import { invalidArgument } from "./connect-errors.js";

/**
 * A worker numbers its lines from 1 within an attempt, so that a resent
 * call stores each line once: a line without a sequence (0), or one that
 * repeats another's in the same call, would be dropped as a resend.
 */
export const WORKER_LINES: LineNumbering = { field: "lines" };

/** Refuses a line whose sequence another line of the call has already. */
export function checkRepeatedSequences(
  lines: readonly { sequence: bigint }[],
): void {
  const seen = new Map<bigint, number>();
  lines.forEach((line, i) => {
    const first = seen.get(line.sequence);
    if (first !== undefined) {
      throw invalidArgument(
        `lines[${i}].sequence`,
        `${line.sequence} repeats lines[${first}]'s`,
      );
    }
    seen.set(line.sequence, i);
  });
}
