import { sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { type Db, rowsOf } from "../db/index.js";
import type { TaskStateName } from "./states.js";
import type { TaskFacts } from "./template-facts.js";

/** A CREATED task an advance may move. */
export interface Candidate {
  taskId: string;
  dependsOn: string[];
  spec: JsonObject;
}

/** A frontier's candidates, and the facts of the tasks they depend on. */
export interface FrontierRead {
  candidates: Candidate[];
  facts: Map<string, TaskFacts>;
}

/**
 * The CREATED tasks downstream of `frontier` (every CREATED task at the
 * run's start), and the states and outputs of every task they depend
 * on: one statement, where reading the facts after the candidates would
 * be a second round trip.
 */
export async function loadCandidates(
  tx: Db,
  runId: string,
  frontier: readonly string[] | "start",
): Promise<FrontierRead> {
  const downstream =
    frontier === "start"
      ? sql``
      : sql`AND depends_on && ${sql.param([...frontier])}::text[]`;
  const rows = rowsOf<FrontierRow>(
    await tx.execute(sql`
      WITH candidates AS MATERIALIZED (
        SELECT task_id, depends_on, spec FROM tasks
        WHERE run_id = ${runId} AND state = 'CREATED' ${downstream}
      )
      SELECT true AS candidate, task_id, depends_on, spec,
        NULL AS state, NULL::jsonb AS output, NULL::int AS exit_code,
        NULL::int AS attempt_count
      FROM candidates
      UNION ALL
      SELECT false, t.task_id, NULL, NULL, t.state, t.output, t.exit_code,
        t.attempt_count
      FROM (SELECT DISTINCT unnest(depends_on) AS id FROM candidates) AS up
      -- A primary-key lookup per upstream task: OFFSET 0 keeps the planner
      -- from turning it into a hash join over every task of the run, which
      -- it picked on a young table's statistics and which made each hop
      -- of a chain read the whole chain.
      CROSS JOIN LATERAL (
        SELECT task_id, state, output, exit_code, attempt_count FROM tasks
        WHERE run_id = ${runId} AND task_id = up.id
        OFFSET 0) AS t`),
  );
  const read: FrontierRead = { candidates: [], facts: new Map() };
  for (const row of rows) {
    if (row.candidate) {
      read.candidates.push({
        taskId: row.task_id,
        dependsOn: row.depends_on ?? [],
        spec: row.spec ?? {},
      });
    } else {
      read.facts.set(row.task_id, {
        taskId: row.task_id,
        state: row.state as TaskStateName,
        output: row.output,
        exitCode: row.exit_code,
        attemptCount: row.attempt_count ?? 0,
      });
    }
  }
  return read;
}

interface FrontierRow {
  candidate: boolean;
  task_id: string;
  depends_on: string[] | null;
  spec: JsonObject | null;
  state: string | null;
  output: JsonObject | null;
  exit_code: number | null;
  attempt_count: number | null;
}
