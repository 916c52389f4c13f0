import { desc, eq, sql } from "drizzle-orm";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { WorkflowDefinition } from "../../workflow/index.js";
import { type Db, workflows } from "../db/index.js";
import { definitionDigest } from "./definition-digest.js";

/** A stored version of a workflow: one row of `workflows`. */
export type WorkflowRow = typeof workflows.$inferSelect;

/** What {@link registerWorkflow} did. */
export interface RegisteredWorkflow {
  workflow: WorkflowRow;
  /** False when the definition matched the latest version. */
  created: boolean;
}

/**
 * The first key of the two-key advisory lock on a workflow name ("dfwf");
 * the second is the name's hash. Other two-key locks would pick another
 * first key, so the two never meet.
 */
const WORKFLOW_LOCK_SPACE = 0x6466_7766;

/**
 * Stores a validated, normalized definition as the next version of its
 * workflow, unless its digest equals the latest version's, which is then
 * returned as it is.
 *
 * Concurrent registrations of one name queue on a transaction-level
 * advisory lock on the name, so each reads the latest version only after
 * the one before it has committed: versions are never skipped or doubled.
 * Two names whose hashes collide merely wait for each other. The primary
 * key (name, version) stays the last word: a row it refuses surfaces as
 * AlreadyExists rather than a silent overwrite.
 */
export async function registerWorkflow(
  db: Db,
  definition: WorkflowDefinition,
): Promise<RegisteredWorkflow> {
  // Through JSON once, so the digest covers exactly what jsonb keeps.
  const document = JSON.parse(JSON.stringify(definition)) as JsonObject;
  const digest = definitionDigest(document);
  const name = definition.name;
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(${WORKFLOW_LOCK_SPACE}::int, hashtext(${name}))`,
    );
    const [latest] = await tx
      .select()
      .from(workflows)
      .where(eq(workflows.name, name))
      .orderBy(desc(workflows.version))
      .limit(1);
    if (latest && latest.digest === digest) {
      return { workflow: latest, created: false };
    }
    const [inserted] = await tx
      .insert(workflows)
      .values({
        name,
        version: (latest?.version ?? 0) + 1,
        digest,
        definition: document,
      })
      .returning();
    if (!inserted) throw new Error("the workflow insert returned no row");
    return { workflow: inserted, created: true };
  });
}
