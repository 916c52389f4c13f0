import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DefinitionSchema } from "../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../plugin-sdk/index.js";
import { plainJsonObject } from "./plain-json.js";
import { Workflow } from "./workflow.js";
import type { WorkflowDocument } from "./workflow-document.js";

/** A definition as the SDK takes it: built, as data, or as text. */
export type DefinitionInput = Workflow | WorkflowDocument | string;

/**
 * The API's Definition message for a workflow: a `Workflow` or a
 * document travels as the parsed document, a string as JSON/YAML text
 * (which the server parses and reports on with line and column).
 */
export function definitionOf(
  definition: DefinitionInput,
): MessageInitShape<typeof DefinitionSchema> {
  if (typeof definition === "string") {
    return { source: { case: "text", value: definition } };
  }
  const document: JsonObject =
    definition instanceof Workflow
      ? (definition.toDefinition() as unknown as JsonObject)
      : plainJsonObject(definition, "definition");
  return { source: { case: "document", value: document } };
}
