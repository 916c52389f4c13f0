import { Code, ConnectError } from "@connectrpc/connect";
import { and, count, desc, eq } from "drizzle-orm";
import { type Db, workflows } from "../db/index.js";
import type { WorkflowRow } from "./register-workflow.js";

/** A stored version and how many versions its workflow has. */
export interface FoundWorkflow {
  workflow: WorkflowRow;
  versionCount: number;
}

/**
 * Reads one version of a workflow; version 0 means the latest. An
 * unknown name or version is NotFound, and the message names it (and,
 * for a version, the latest one there is).
 */
export async function findWorkflow(
  db: Db,
  name: string,
  version: number,
): Promise<FoundWorkflow> {
  const [row] = await db
    .select()
    .from(workflows)
    .where(
      and(
        eq(workflows.name, name),
        version > 0 ? eq(workflows.version, version) : undefined,
      ),
    )
    .orderBy(desc(workflows.version))
    .limit(1);
  const versionCount = await countVersions(db, name);
  // Versions run 1..N without gaps, so the count is also the latest.
  if (!row) throw workflowNotFound(name, version, versionCount);
  return { workflow: row, versionCount };
}

/** How many versions a workflow has; 0 for an unknown name. */
export async function countVersions(db: Db, name: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(workflows)
    .where(eq(workflows.name, name));
  return Number(row?.n ?? 0);
}

function workflowNotFound(
  name: string,
  version: number,
  latest: number,
): ConnectError {
  const message =
    latest === 0
      ? `workflow ${name} not found`
      : `workflow ${name} version ${version} not found ` +
        `(the latest is version ${latest})`;
  return new ConnectError(message, Code.NotFound);
}
