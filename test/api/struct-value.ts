/**
 * google.protobuf.Struct in the shape proto-loader reads and writes with
 * keepCase: `{ fields: { name: Value } }`, where a Value sets one of
 * null_value, number_value, string_value, bool_value, struct_value or
 * list_value. Written by hand so the test shares nothing with the
 * server's protobuf runtime.
 */
export interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

/** google.protobuf.Value as proto-loader sees it. */
export type ProtoValue =
  | { null_value: "NULL_VALUE" }
  | { number_value: number }
  | { string_value: string }
  | { bool_value: boolean }
  | { struct_value: ProtoStruct }
  | { list_value: { values: ProtoValue[] } };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object as a Struct message. */
export function toStruct(object: Record<string, Json>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(object)) {
    fields[key] = toValue(value);
  }
  return { fields };
}

function toValue(value: Json): ProtoValue {
  if (value === null) return { null_value: "NULL_VALUE" };
  if (typeof value === "boolean") return { bool_value: value };
  if (typeof value === "number") return { number_value: value };
  if (typeof value === "string") return { string_value: value };
  if (Array.isArray(value)) {
    return { list_value: { values: value.map(toValue) } };
  }
  return { struct_value: toStruct(value) };
}

/**
 * A decoded Struct back to JSON. Relies on proto-loader's `oneofs: true`,
 * which names the chosen field of Value's `kind` oneof.
 */
export function fromStruct(struct: unknown): Record<string, Json> {
  const fields = (struct as { fields?: Record<string, unknown> }).fields ?? {};
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = fromValue(value);
  }
  return out;
}

function fromValue(value: unknown): Json {
  const v = value as Record<string, unknown> & { kind?: string };
  switch (v.kind) {
    case "null_value":
      return null;
    case "number_value":
    case "string_value":
    case "bool_value":
      return v[v.kind] as Json;
    case "struct_value":
      return fromStruct(v.struct_value);
    case "list_value": {
      const list = v.list_value as { values?: unknown[] };
      return (list.values ?? []).map(fromValue);
    }
    default:
      throw new Error(`a Value with no kind set: ${JSON.stringify(value)}`);
  }
}
