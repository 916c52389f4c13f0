/**
 * The AGENT / WHY rows of `deerflow explain`. A fleet of thousands would
 * print thousands of rows, most of them alike ("disconnected"), so past a
 * screenful agents with the same reason share a row.
 */

/** Rows for the table, and how many agents they leave out. */
export interface VerdictRows {
  rows: [agent: string, why: string][];
  /** Agents in no row (more reasons than `maxRows`). */
  hidden: number;
}

/** Rows shown before agents are grouped by reason. */
export const MAX_VERDICT_ROWS = 20;

/** Names listed in a grouped row before "and N more". */
const NAMES_PER_GROUP = 3;

/**
 * Agents that fit first, then by reason and name. With `all`, or when
 * they fit in `maxRows`, one row per agent; otherwise one row per reason,
 * and at most `maxRows` of them.
 */
export function verdictRows(
  agents: Readonly<Record<string, string>>,
  options: { all?: boolean; maxRows?: number } = {},
): VerdictRows {
  const maxRows = options.maxRows ?? MAX_VERDICT_ROWS;
  const sorted = Object.entries(agents).sort(
    ([nameA, whyA], [nameB, whyB]) =>
      Number(!fits(whyA)) - Number(!fits(whyB)) ||
      whyA.localeCompare(whyB) ||
      nameA.localeCompare(nameB),
  );
  if (options.all || sorted.length <= maxRows) {
    return { rows: sorted, hidden: 0 };
  }
  const byReason = new Map<string, string[]>();
  for (const [name, why] of sorted) {
    const names = byReason.get(why) ?? [];
    names.push(name);
    byReason.set(why, names);
  }
  const groups = [...byReason];
  const rows = groups
    .slice(0, maxRows)
    .map(([why, names]): [string, string] => [groupName(names), why]);
  const hidden = groups
    .slice(maxRows)
    .reduce((sum, [, names]) => sum + names.length, 0);
  return { rows, hidden };
}

function fits(why: string): boolean {
  return why.startsWith("fits");
}

function groupName(names: readonly string[]): string {
  if (names.length <= NAMES_PER_GROUP) return names.join(", ");
  const more = names.length - NAMES_PER_GROUP;
  return `${names.slice(0, NAMES_PER_GROUP).join(", ")} and ${more} more`;
}
