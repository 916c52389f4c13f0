import { describe, expect, it } from "vitest";
import { compileConfigSchema } from "./config-schema-check.js";
import { problemsOf, validate, workflow } from "./test-support.js";
import { validateDefinition } from "./validate-definition.js";

describe("config schema checks", () => {
  it("turns each schema error into a problem under config.", () => {
    const problems = problemsOf(
      workflow(
        { id: "a", type: "shell", config: { shell: 1, extra: true } },
        {
          id: "b",
          type: "http",
          url: 5,
          method: "FETCH",
          expected_status: 700,
        },
      ),
    );
    expect(problems).toEqual([
      { taskId: "a", field: "config.command", message: "is required" },
      { taskId: "a", field: "config.extra", message: 'unknown field "extra"' },
      { taskId: "a", field: "config.shell", message: "must be string" },
      {
        taskId: "b",
        field: "config.method",
        message:
          'must be equal to one of the allowed values: "GET", "POST", "PUT", "DELETE"',
      },
      { taskId: "b", field: "config.url", message: "must be string" },
      {
        taskId: "b",
        field: "config.expected_status",
        message: "must be <= 599",
      },
    ]);
  });

  it("accepts a sole template wherever the schema wants another type", () => {
    const { problems } = validate({
      name: "wf",
      params: { status: 200, method: "GET", codes: [500] },
      tasks: [
        {
          id: "a",
          type: "http",
          url: "http://127.0.0.1:9/${params.method}",
          method: "${params.method}",
          expected_status: "${params.status}",
          retries_on: "${params.codes}",
        },
      ],
    });
    expect(problems).toEqual([]);
  });

  it("still checks that text around a template is a string", () => {
    const problems = problemsOf({
      name: "wf",
      params: { status: 200 },
      tasks: [
        {
          id: "a",
          type: "http",
          url: "http://127.0.0.1:9/",
          expected_status: "2${params.status}",
        },
      ],
    });
    expect(problems).toEqual([
      {
        taskId: "a",
        field: "config.expected_status",
        message: "must be integer",
      },
    ]);
  });

  it("reports a task type whose schema does not compile", () => {
    const result = validateDefinition(
      workflow({ id: "a", type: "broken", x: 1 }),
      {
        taskTypes: new Map([
          ["broken", { type: "object", properties: { x: { type: "strng" } } }],
        ]),
      },
    );
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ taskId: "a", field: "type" });
    expect(result.problems[0]?.message).toMatch(
      /task type "broken" has an invalid schema/,
    );
  });

  it("keeps apart two task types whose schemas share an $id", () => {
    const schema = (type: string) => ({
      $id: "https://example.invalid/config",
      type: "object",
      properties: { x: { type } },
    });
    const taskTypes = new Map([
      ["a", schema("string")],
      ["b", schema("number")],
    ]);
    const result = validateDefinition(
      workflow(
        { id: "one", type: "a", x: "text" },
        { id: "two", type: "b", x: "text" },
      ),
      { taskTypes },
    );
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({
      taskId: "two",
      field: "config.x",
    });
  });
  it("compiles a schema once, though it comes as a new object each time", () => {
    // As an agent's advertised schema does, read from the database anew.
    const text = JSON.stringify({
      type: "object",
      properties: { path: { type: "string" } },
      required: ["path"],
    });
    const first = compileConfigSchema(JSON.parse(text));
    const second = compileConfigSchema(JSON.parse(text));
    expect(second).toBe(first);
    expect(second({ path: "/tmp" })).toBe(true);
    expect(second({})).toBe(false);
    const broken = JSON.stringify({ type: "object", properties: 3 });
    expect(() => compileConfigSchema(JSON.parse(broken))).toThrow();
    expect(() => compileConfigSchema(JSON.parse(broken))).toThrow();
  });
});
