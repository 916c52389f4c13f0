import { parse } from "@bufbuild/cel";
import { expressionReferences } from "./expression-references.js";
import { parseTemplate } from "./parse-template.js";

/**
 * Task ids named by `tasks.<id>` (or `tasks['<id>']`) in a template string
 * or a CEL expression. Text holding `${` is read as a template, anything
 * else as one expression. Parts that do not parse name no tasks (the
 * validator reports them).
 */
export function referencedTasks(text: string): Set<string> {
  const ids = new Set<string>();
  for (const source of expressionSources(text)) {
    let expr: ReturnType<typeof parse>["expr"];
    try {
      expr = parse(source).expr;
    } catch {
      continue;
    }
    for (const reference of expressionReferences(expr).tasks) {
      if (reference.taskId !== undefined) ids.add(reference.taskId);
    }
  }
  return ids;
}

function expressionSources(text: string): string[] {
  if (!text.includes("${")) return [text];
  try {
    return parseTemplate(text).flatMap((part) =>
      part.kind === "expression" ? [part.source] : [],
    );
  } catch {
    return [];
  }
}
