import type { WorkflowRef } from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  type TaskTypeCatalog,
  validateDefinition,
  type WorkflowDefinition,
} from "../../workflow/index.js";
import type { Db } from "../db/index.js";
import { findWorkflow } from "./find-workflow.js";
import { definitionError } from "./read-definition.js";
import { requireVersion, requireWorkflowName } from "./workflow-name.js";

/** The registered definition a run starts from. */
export interface ResolvedWorkflow {
  definition: WorkflowDefinition;
  version: number;
}

/**
 * Finds the version a StartRun's workflow_ref names (version 0: the
 * latest) and checks the run's params against it exactly as an inline
 * definition's are checked: the stored definition goes through the
 * validator again with the params, so an undeclared param, or a task
 * type no longer known, is refused with the same problem list.
 *
 * The run gets the stored definition itself; normalizing a normalized
 * definition changes nothing, so it is what validation saw.
 */
export async function resolveWorkflowRef(
  db: Db,
  ref: WorkflowRef,
  catalog: TaskTypeCatalog,
  params: JsonObject,
): Promise<ResolvedWorkflow> {
  const name = requireWorkflowName("workflow_ref.name", ref.name);
  const version = requireVersion("workflow_ref.version", ref.version);
  const { workflow } = await findWorkflow(db, name, version);
  const check = validateDefinition(workflow.definition, {
    taskTypes: catalog,
    params,
  });
  if (check.problems.length > 0) throw definitionError(check.problems);
  return {
    definition: workflow.definition as unknown as WorkflowDefinition,
    version: workflow.version,
  };
}
