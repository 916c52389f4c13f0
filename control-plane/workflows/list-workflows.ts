import { and, asc, count, desc, eq, gt, lt, max } from "drizzle-orm";
import { type Db, workflows } from "../db/index.js";
import type { FoundWorkflow } from "./find-workflow.js";
import { countVersions } from "./find-workflow.js";
import {
  encodeWorkflowPageToken,
  type WorkflowPageToken,
} from "./workflow-page-token.js";

/** One page of ListWorkflows. */
export interface WorkflowPage {
  workflows: FoundWorkflow[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * The latest version of each workflow, by name, with its version count:
 * one grouped subquery picks the names of the page and their latest
 * versions, and the join reads those rows.
 */
export async function listLatestWorkflows(
  db: Db,
  pageSize: number,
  after: WorkflowPageToken | undefined,
): Promise<WorkflowPage> {
  const latest = db
    .select({
      name: workflows.name,
      latest: max(workflows.version).as("latest"),
      versions: count().as("versions"),
    })
    .from(workflows)
    .where(after ? gt(workflows.name, after.name) : undefined)
    .groupBy(workflows.name)
    .orderBy(asc(workflows.name))
    .limit(pageSize + 1)
    .as("latest");
  const rows = await db
    .select({ workflow: workflows, versions: latest.versions })
    .from(workflows)
    .innerJoin(
      latest,
      and(
        eq(workflows.name, latest.name),
        eq(workflows.version, latest.latest),
      ),
    )
    .orderBy(asc(workflows.name));
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  return {
    workflows: page.map((r) => ({
      workflow: r.workflow,
      versionCount: Number(r.versions),
    })),
    nextPageToken:
      rows.length > pageSize && last
        ? encodeWorkflowPageToken({
            kind: "after_name",
            name: last.workflow.name,
          })
        : "",
  };
}

/**
 * Every version of one workflow, newest first. An unknown name gives an
 * empty page, as ListRuns does for a workflow_name with no runs.
 */
export async function listWorkflowVersions(
  db: Db,
  name: string,
  pageSize: number,
  below: WorkflowPageToken | undefined,
): Promise<WorkflowPage> {
  const rows = await db
    .select()
    .from(workflows)
    .where(
      and(
        eq(workflows.name, name),
        below?.kind === "below_version"
          ? lt(workflows.version, below.version)
          : undefined,
      ),
    )
    .orderBy(desc(workflows.version))
    .limit(pageSize + 1);
  const versionCount = rows.length > 0 ? await countVersions(db, name) : 0;
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  return {
    workflows: page.map((workflow) => ({ workflow, versionCount })),
    nextPageToken:
      rows.length > pageSize && last
        ? encodeWorkflowPageToken({
            kind: "below_version",
            name,
            version: last.version,
          })
        : "",
  };
}
