import { createHash } from "node:crypto";
import type { JsonValue } from "../../plugin-sdk/index.js";

/**
 * JSON with every object's keys sorted (UTF-16 code-unit order, as
 * `Array.prototype.sort` does) and no whitespace. Two documents that
 * differ only in key order (as YAML, JSON and a jsonb round trip may)
 * give the same text. Undefined members are left out, as JSON.stringify
 * would.
 */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const members = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => {
        const member = value[key] as JsonValue;
        return `${JSON.stringify(key)}:${canonicalJson(member)}`;
      });
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The digest of a normalized definition: SHA-256, hex, of its canonical
 * JSON. Registration compares it with the latest version's to decide
 * whether a definition changed.
 */
export function definitionDigest(definition: JsonValue): string {
  return createHash("sha256").update(canonicalJson(definition)).digest("hex");
}
