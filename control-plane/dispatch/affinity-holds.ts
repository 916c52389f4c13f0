import { type SQL, sql } from "drizzle-orm";
import { AFFINITY_INTEGER_PATTERN } from "../../workflow/index.js";

/**
 * A condition on a `tasks` row, for the claim's WHERE: true when the
 * task has no affinity, or when every expression of it holds for an agent
 * with these labels. This is where affinity's meaning is defined:
 *
 * - In: the label is set to one of the values.
 * - NotIn: the label is unset, or set to none of the values.
 * - Exists / DoesNotExist: the label is set / unset.
 * - Gt / Lt: the label is an integer (AFFINITY_INTEGER_PATTERN) greater /
 *   less than the value. A label that is unset or not an integer does not
 *   match, and raises no error: the comparison runs only after both sides
 *   passed the pattern, and as numeric, which holds the pattern's 255
 *   digits with room to spare (`memory_bytes` does not fit an int4). A
 *   cast that could fail would fail every claim, of every run.
 *
 * A task without affinity stops at `affinity IS NULL`, before the
 * subquery; an operator the validator would not store matches nothing.
 * Like `node_selector`, it reads only the agent's labels, so agents with
 * the same task types and labels still fit the same tasks (which the
 * dispatcher's dry-claim sharing relies on).
 */
export function affinityHolds(labels: Readonly<Record<string, string>>): SQL {
  const integer = AFFINITY_INTEGER_PATTERN;
  return sql`(tasks.affinity IS NULL OR NOT EXISTS (
    SELECT 1
    FROM jsonb_array_elements(tasks.affinity) AS e(x)
    CROSS JOIN LATERAL (
      SELECT ${JSON.stringify(labels)}::jsonb ->> (e.x ->> 'key') AS label,
        e.x -> 'values' AS vals) AS l
    WHERE NOT COALESCE(CASE e.x ->> 'operator'
      WHEN 'In' THEN l.vals ? l.label
      WHEN 'NotIn' THEN l.label IS NULL OR NOT l.vals ? l.label
      WHEN 'Exists' THEN l.label IS NOT NULL
      WHEN 'DoesNotExist' THEN l.label IS NULL
      WHEN 'Gt' THEN CASE
        WHEN l.label ~ ${integer} AND l.vals ->> 0 ~ ${integer}
        THEN l.label::numeric > (l.vals ->> 0)::numeric END
      WHEN 'Lt' THEN CASE
        WHEN l.label ~ ${integer} AND l.vals ->> 0 ~ ${integer}
        THEN l.label::numeric < (l.vals ->> 0)::numeric END
      END, false)))`;
}
