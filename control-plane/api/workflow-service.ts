import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Logger, silentLogger } from "../../core/index.js";
import {
  GetWorkflowResponseSchema,
  ListWorkflowsResponseSchema,
  RegisterWorkflowResponseSchema,
  type WorkflowService,
} from "../../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { Db } from "../db/index.js";
import { findWorkflow } from "../workflows/find-workflow.js";
import {
  listLatestWorkflows,
  listWorkflowVersions,
} from "../workflows/list-workflows.js";
import {
  definitionError,
  toProblemMessages,
} from "../workflows/read-definition.js";
import { registerWorkflow } from "../workflows/register-workflow.js";
import { loadTaskTypeCatalog } from "../workflows/task-type-catalog.js";
import {
  requireVersion,
  requireWorkflowName,
} from "../workflows/workflow-name.js";
import { decodeWorkflowPageToken } from "../workflows/workflow-page-token.js";
import { toWorkflow } from "../workflows/workflow-view.js";
import { checkRequestDefinition } from "./check-request-definition.js";

/** What the WorkflowService needs besides its database. */
export interface WorkflowServiceOptions {
  /** Where registrations are logged; default: nowhere. */
  logger?: Logger | undefined;
}

/** Page sizes, as ListRuns has them. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/**
 * WorkflowService: register named, versioned definitions, read one
 * version or list them, and validate a definition without storing it.
 * Registration validates exactly as StartRun does and reports every
 * problem at once.
 */
export function createWorkflowService(
  db: Db,
  options: WorkflowServiceOptions = {},
): Partial<ServiceImpl<typeof WorkflowService>> {
  const log = options.logger ?? silentLogger();
  return {
    async registerWorkflow(req) {
      const catalog = await loadTaskTypeCatalog(db);
      const check = checkRequestDefinition(req.definition, catalog);
      // Validation bounds the name as a workflow name (MAX_ID_CHARS).
      if (!check.ok) throw definitionError(check.problems);
      const registered = await registerWorkflow(db, check.definition);
      const { workflow, created } = registered;
      log.info(
        {
          workflow_name: workflow.name,
          workflow_version: workflow.version,
          digest: workflow.digest,
          created,
        },
        created ? "workflow registered" : "workflow unchanged",
      );
      // The new or matched version is the latest, so its number is the
      // count (versions run 1..N).
      return create(RegisterWorkflowResponseSchema, {
        workflow: toWorkflow({ workflow, versionCount: workflow.version }),
        created,
      });
    },

    async getWorkflow(req) {
      const name = requireWorkflowName("name", req.name);
      const version = requireVersion("version", req.version);
      const found = await findWorkflow(db, name, version);
      return create(GetWorkflowResponseSchema, {
        workflow: toWorkflow(found),
      });
    },

    async listWorkflows(req) {
      const size = pageSize(req.pageSize);
      const name = req.name === "" ? "" : requireWorkflowName("name", req.name);
      const token = req.pageToken
        ? decodeWorkflowPageToken(req.pageToken, name)
        : undefined;
      const page =
        name === ""
          ? await listLatestWorkflows(db, size, token)
          : await listWorkflowVersions(db, name, size, token);
      return create(ListWorkflowsResponseSchema, {
        workflows: page.workflows.map(toWorkflow),
        nextPageToken: page.nextPageToken,
      });
    },

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

function pageSize(requested: number): number {
  if (requested < 0) {
    throw new ConnectError(
      "page_size: must not be negative",
      Code.InvalidArgument,
    );
  }
  return Math.min(requested || DEFAULT_PAGE, MAX_PAGE);
}
