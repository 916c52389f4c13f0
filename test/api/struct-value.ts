/**
 * google.protobuf.Struct in the shape proto-loader reads and writes:
 * `{ fields: { name: Value } }`, where a Value sets one of nullValue,
 * numberValue, stringValue, boolValue, structValue or listValue. These
 * names are camelCase even with keepCase, because proto-loader takes the
 * well-known types from protobufjs's bundled copies rather than from
 * proto/. Written by hand so the test shares nothing with the server's
 * protobuf runtime.
 */
export interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

/** google.protobuf.Value as proto-loader sees it. */
export type ProtoValue =
  | { nullValue: "NULL_VALUE" }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: ProtoStruct }
  | { listValue: { values: ProtoValue[] } };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A JSON object as a Struct message. Keys whose value is undefined are
 * left out, as JSON.stringify leaves them out.
 */
export function toStruct(object: object): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) fields[key] = toValue(value, key);
  }
  return { fields };
}

function toValue(value: unknown, path: string): ProtoValue {
  if (value === null) return { nullValue: "NULL_VALUE" };
  switch (typeof value) {
    case "boolean":
      return { boolValue: value };
    case "number":
      return { numberValue: value };
    case "string":
      return { stringValue: value };
    case "object":
      return Array.isArray(value)
        ? {
            listValue: {
              values: value.map((v, i) => toValue(v, `${path}[${i}]`)),
            },
          }
        : { structValue: toStruct(value) };
    default:
      throw new Error(`${path}: a ${typeof value} is not JSON`);
  }
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
    case "nullValue":
      return null;
    case "numberValue":
    case "stringValue":
    case "boolValue":
      return v[v.kind] as Json;
    case "structValue":
      return fromStruct(v.structValue);
    case "listValue": {
      const list = v.listValue as { values?: unknown[] };
      return (list.values ?? []).map(fromValue);
    }
    default:
      throw new Error(`a Value with no kind set: ${JSON.stringify(value)}`);
  }
}
