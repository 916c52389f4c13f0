import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/index.js";
import type { StartRunInput } from "./start-run.js";

/**
 * An idempotency key that already names a run started from something
 * else: another workflow, other params, or another inline definition.
 * Returning the old run would hide the caller's mistake, so the start
 * is refused instead, naming what differs.
 */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = "IdempotencyKeyReusedError";

  constructor(
    readonly key: string,
    readonly runId: string,
    readonly differs: readonly string[],
  ) {
    super(
      `idempotency_key: "${key}" already started run ${runId} with ${differs.join(" and ")}`,
    );
  }
}

/**
 * The run an idempotency key names, if any, once it is known to answer
 * the same start. A start by name compares the workflow, the version if
 * it named one, and params: a retry of a start of the latest version
 * still gets its run after the workflow gained another. An
 * inline start also compares the definition. jsonb equality ignores
 * key order.
 */
export async function runOfSameStart(
  tx: Db,
  key: string,
  input: StartRunInput,
): Promise<string | undefined> {
  const inline = input.workflowVersion === 0;
  const result = await tx.execute(sql`
    SELECT id, workflow_name, workflow_version,
           params = ${JSON.stringify(input.params)}::jsonb AS same_params,
           ${
             inline
               ? sql`definition = ${JSON.stringify(input.definition)}::jsonb`
               : sql`true`
           } AS same_definition
    FROM runs WHERE idempotency_key = ${key}`);
  const [run] = rowsOf<{
    id: string;
    workflow_name: string;
    workflow_version: number;
    same_params: boolean;
    same_definition: boolean;
  }>(result);
  if (!run) return undefined;
  const differs: string[] = [];
  if (run.workflow_name !== input.definition.name)
    differs.push("a different workflow");
  else if ((run.workflow_version === 0) !== inline) {
    differs.push(inline ? "a workflow by name" : "an inline definition");
  } else if (!run.same_definition) differs.push("a different definition");
  else if (
    !inline &&
    input.pinnedVersion &&
    run.workflow_version !== input.pinnedVersion
  ) {
    differs.push(`version ${run.workflow_version} of the workflow`);
  }
  if (!run.same_params) differs.push("different params");
  if (differs.length > 0) {
    throw new IdempotencyKeyReusedError(key, run.id, differs);
  }
  return run.id;
}
