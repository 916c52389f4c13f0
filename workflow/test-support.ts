import { expect } from "vitest";
import type { ConfigSchema, JsonObject } from "../plugin-sdk/index.js";
import { validateDefinition } from "./validate-definition.js";
import type { Problem, TaskTypeCatalog } from "./workflow-definition.js";

/**
 * Task types for this folder's tests, shaped like the built-in shell and
 * http plugins' schemas (the real ones live in plugins/).
 */
export const shellSchema: ConfigSchema = {
  type: "object",
  properties: {
    command: { type: "string", "x-encoding": "shell" },
    shell: { type: "string" },
    working_dir: { type: "string" },
    env: { type: "object", additionalProperties: { type: "string" } },
    capture_output: { type: "boolean" },
  },
  required: ["command"],
  additionalProperties: false,
};

export const httpSchema: ConfigSchema = {
  type: "object",
  properties: {
    method: { enum: ["GET", "POST", "PUT", "DELETE"] },
    url: { type: "string", "x-encoding": "url" },
    headers: { type: "object", additionalProperties: { type: "string" } },
    body: {},
    timeout: { type: "number", exclusiveMinimum: 0 },
    expected_status: { type: "integer", minimum: 100, maximum: 599 },
    retries_on: {
      anyOf: [
        { type: "integer" },
        { type: "array", items: { type: "integer" } },
      ],
    },
  },
  required: ["url"],
  additionalProperties: false,
};

/** The catalog the tests validate against. */
export const testCatalog: TaskTypeCatalog = new Map([
  ["shell", shellSchema],
  ["http", httpSchema],
]);

/** Validates against {@link testCatalog}. */
export function validate(document: unknown, params?: JsonObject) {
  return validateDefinition(document, { taskTypes: testCatalog, params });
}

/** The problems of a definition that must not validate. */
export function problemsOf(document: unknown, params?: JsonObject): Problem[] {
  const result = validate(document, params);
  expect(result.definition).toBeUndefined();
  return result.problems;
}

/** A workflow named "wf" with these tasks. */
export function workflow(...tasks: unknown[]): JsonObject {
  return { name: "wf", tasks } as JsonObject;
}

/** A shell task that echoes, written with the shorthand. */
export const echo = (id: string, extra: JsonObject = {}) => ({
  id,
  type: "shell",
  command: "echo hi",
  ...extra,
});
