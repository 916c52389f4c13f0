import type { JsonValue } from "../../plugin-sdk/index.js";
import { ConfigFieldError } from "./job-settings.js";

/** One field of a generated model class of @kubernetes/client-node. */
interface ModelAttribute {
  name: string;
  baseName: string;
  type: string;
}

interface ModelClass {
  getAttributeTypeMap(): ModelAttribute[];
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

/**
 * Rejects fields a PodSpec does not have, checked against the model
 * classes of @kubernetes/client-node. Without this a typo such as
 * `comand` would vanish: the client's serializer keeps only the fields it
 * knows, so the API server never sees (nor rejects) it. Only field names
 * and the object/array shape are checked; values are the API server's to
 * judge.
 */
export function checkPodSpecFields(models: object, podSpec: JsonValue): void {
  checkValue(
    models as Record<string, unknown>,
    "V1PodSpec",
    podSpec,
    "config.pod_spec",
  );
}

function checkValue(
  models: Record<string, unknown>,
  type: string,
  value: JsonValue | undefined,
  field: string,
): void {
  if (value === undefined || value === null) return;
  const array = ARRAY.exec(type);
  if (array?.[1] !== undefined) {
    if (!Array.isArray(value)) {
      throw new ConfigFieldError(field, "must be an array");
    }
    const itemType = array[1];
    value.forEach((item, index) => {
      checkValue(models, itemType, item, `${field}[${index}]`);
    });
    return;
  }
  const map = MAP.exec(type);
  if (map?.[1] !== undefined) {
    const valueType = map[1];
    for (const [key, item] of Object.entries(objectAt(field, value))) {
      checkValue(models, valueType, item, `${field}.${key}`);
    }
    return;
  }
  const model = modelClass(models, type);
  if (model === undefined) return;
  const attributes = model.getAttributeTypeMap();
  for (const [key, item] of Object.entries(objectAt(field, value))) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (attribute === undefined) {
      const known = attributes.map((a) => a.baseName);
      throw new ConfigFieldError(
        `${field}.${key}`,
        `unknown field${suggestion(key, known)}`,
      );
    }
    checkValue(models, attribute.type, item, `${field}.${key}`);
  }
}

function modelClass(
  models: Record<string, unknown>,
  type: string,
): ModelClass | undefined {
  const candidate = models[type] as Partial<ModelClass> | undefined;
  return typeof candidate?.getAttributeTypeMap === "function"
    ? (candidate as ModelClass)
    : undefined;
}

function objectAt(field: string, value: JsonValue): Record<string, JsonValue> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigFieldError(field, "must be an object");
  }
  return value;
}

/** ` (did you mean "command"?)` for a close known name, else "". */
function suggestion(key: string, known: string[]): string {
  const simple = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const distance = simple(name) === simple(key) ? 0 : editDistance(key, name);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/** Levenshtein distance, for suggestions on short field names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution =
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
