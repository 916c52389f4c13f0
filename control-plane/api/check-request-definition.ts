import type { Definition } from "../../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type { TaskTypeCatalog } from "../../workflow/index.js";
import {
  checkDefinition,
  type DefinitionCheck,
} from "../workflows/read-definition.js";

/**
 * checkDefinition for a definition that arrived in an API message. A
 * syntax error in `text` names no field of its own; it is given
 * "definition.text", the request field the caller has to fix, so every
 * problem an API caller reads names its field.
 */
export function checkRequestDefinition(
  input: Definition | undefined,
  catalog: TaskTypeCatalog,
  params?: JsonObject,
): DefinitionCheck {
  const check = checkDefinition(input, catalog, params);
  if (check.ok || input?.source.case !== "text") return check;
  return {
    ok: false,
    problems: check.problems.map((p) =>
      p.field === "" && p.taskId === ""
        ? { ...p, field: "definition.text" }
        : p,
    ),
  };
}
