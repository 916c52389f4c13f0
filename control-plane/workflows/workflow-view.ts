import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Workflow,
  WorkflowSchema,
} from "../../gen/deerflow/v1/workflow_pb.js";
import type { FoundWorkflow } from "./find-workflow.js";

/** A stored version as the API shows it. */
export function toWorkflow({
  workflow,
  versionCount,
}: FoundWorkflow): Workflow {
  return create(WorkflowSchema, {
    name: workflow.name,
    version: workflow.version,
    definition: workflow.definition,
    digest: workflow.digest,
    createdAt: timestampFromDate(workflow.createdAt),
    versionCount,
  });
}
