import type { ServiceImpl } from "@connectrpc/connect";
import type { WorkflowService } from "../../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { Db } from "../db/index.js";
import { toProblemMessages } from "../workflows/read-definition.js";
import { loadTaskTypeCatalog } from "../workflows/task-type-catalog.js";
import { checkRequestDefinition } from "./check-request-definition.js";

/**
 * WorkflowService: validation now; registration and versions arrive with
 * the workflow-language issue and answer Unimplemented until then.
 */
export function createWorkflowService(
  db: Db,
): Partial<ServiceImpl<typeof WorkflowService>> {
  return {
    async validateWorkflow(req) {
      const catalog = await loadTaskTypeCatalog(db);
      const check = checkRequestDefinition(req.definition, catalog);
      return check.ok
        ? {
            valid: true,
            definition: check.definition as unknown as JsonObject,
          }
        : { valid: false, problems: toProblemMessages(check.problems) };
    },
  };
}
