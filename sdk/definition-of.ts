import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DefinitionSchema } from "../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../plugin-sdk/index.js";
import { MAX_DEFINITION_TEXT } from "../workflow/index.js";
import { plainJsonObject } from "./plain-json.js";
import { Workflow } from "./workflow.js";
import type { WorkflowDocument } from "./workflow-document.js";

/** A definition as the SDK takes it: built, as data, or as text. */
export type DefinitionInput = Workflow | WorkflowDocument | string;

/**
 * The API's Definition message for a workflow: a string travels as it
 * is (JSON or YAML text, which the server parses and reports on with
 * line and column); a `Workflow` or a document is checked to be plain
 * JSON here, naming the field at fault, and travels as JSON text. Text
 * rather than a `google.protobuf.Struct`: one string encodes and parses
 * many times faster than a Struct of thousands of tasks (a 10,000-task
 * definition: about 0.3 s of a StartRun as a Struct), and the server's
 * problems name the same fields either way.
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
  const text = JSON.stringify(document);
  // Past the server's limit for text, the document travels as a Struct,
  // which the request size limit alone bounds.
  return text.length > MAX_DEFINITION_TEXT
    ? { source: { case: "document", value: document } }
    : { source: { case: "text", value: text } };
}
