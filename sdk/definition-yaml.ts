import { Document, parse, visit } from "yaml";

/**
 * Writes a definition as YAML. Deer Flow reads YAML 1.2, where `yes` and
 * `2026-12-01` are strings; other tools (PyYAML, older parsers) read 1.1,
 * where they are a boolean and a date. A one-line string that 1.1 would
 * not read back as itself is double-quoted, so the file means the same
 * to both. Long lines are not folded, and no anchors are made.
 */
export function definitionYaml(definition: object): string {
  const document = new Document(definition, { aliasDuplicateObjects: false });
  visit(document, {
    Scalar(_key, node) {
      const value = node.value;
      if (typeof value !== "string" || value.includes("\n")) return;
      if (!readsAsItself(value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return document.toString({ lineWidth: 0 });
}

/** Whether YAML 1.1 reads `text`, as the 1.2 writer puts it, as `text`. */
function readsAsItself(text: string): boolean {
  try {
    return parse(new Document(text).toString(), { version: "1.1" }) === text;
  } catch {
    return false;
  }
}
