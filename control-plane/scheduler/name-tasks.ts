/** The most task ids a run's or a group's error names. */
export const NAMED_TASKS = 10;

/**
 * Task ids, in the order given, for an error a person reads: at most
 * {@link NAMED_TASKS}, then how many more: "a, b[2], b[10] and 37 more".
 * A group of 10,000 children that all failed makes an error of one
 * line, not of 100 KB.
 */
export function nameTasks(ids: readonly string[]): string {
  const named = ids.slice(0, NAMED_TASKS).join(", ");
  const more = ids.length - NAMED_TASKS;
  return more > 0 ? `${named} and ${more} more` : named;
}
