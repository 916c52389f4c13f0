import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Problem as ProblemMessage,
  ProblemSchema,
  ValidationProblemsSchema,
} from "../../gen/deerflow/v1/common_pb.js";
import type { Definition } from "../../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  type Problem,
  parseDefinitionText,
  type TaskTypeCatalog,
  validateDefinition,
  type WorkflowDefinition,
} from "../../workflow/index.js";

export type DefinitionCheck =
  | { ok: true; definition: WorkflowDefinition }
  | { ok: false; problems: Problem[] };

/**
 * Reads a definition from an API message (a JSON document or JSON/YAML
 * text) and validates it against the known task types and the run's
 * params. Reports every problem.
 */
export function checkDefinition(
  input: Definition | undefined,
  catalog: TaskTypeCatalog,
  params?: JsonObject,
): DefinitionCheck {
  let document: unknown;
  switch (input?.source.case) {
    case "document":
      document = input.source.value;
      break;
    case "text": {
      const parsed = parseDefinitionText(input.source.value);
      if (parsed.problems.length > 0) {
        return { ok: false, problems: parsed.problems };
      }
      document = parsed.document;
      break;
    }
    default:
      return {
        ok: false,
        problems: [{ taskId: "", field: "definition", message: "is required" }],
      };
  }
  // NULs and lone surrogates, which PostgreSQL would refuse, are among
  // the problems validateDefinition reports, naming where.
  const result = validateDefinition(document, {
    taskTypes: catalog,
    ...(params ? { params } : {}),
  });
  if (result.definition && result.problems.length === 0) {
    return { ok: true, definition: result.definition };
  }
  return { ok: false, problems: result.problems };
}

export function toProblemMessages(
  problems: readonly Problem[],
): ProblemMessage[] {
  return problems.map((p) =>
    create(ProblemSchema, {
      taskId: p.taskId,
      field: p.field,
      message: p.message,
    }),
  );
}

/**
 * InvalidArgument listing every problem in its message, one per line,
 * each naming its task and field, with the list as a typed detail.
 */
export function definitionError(problems: readonly Problem[]): ConnectError {
  const lines = problems.map(formatProblem);
  return new ConnectError(
    `the definition has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${lines.join("\n")}`,
    Code.InvalidArgument,
    undefined,
    [
      {
        desc: ValidationProblemsSchema,
        value: { problems: toProblemMessages(problems) },
      },
    ],
  );
}

/** "task extract: config.command: is required". */
export function formatProblem(p: Problem): string {
  const where = p.taskId ? `task ${p.taskId}: ` : "";
  return `${where}${p.field ? `${p.field}: ` : ""}${p.message}`;
}
