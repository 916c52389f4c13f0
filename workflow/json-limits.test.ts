import { describe, expect, it } from "vitest";
import type { JsonObject } from "../plugin-sdk/index.js";
import {
  findNul,
  findTooDeep,
  MAX_JSON_DEPTH,
  nulPaths,
  textNestingDepth,
} from "./json-limits.js";
import { parseDefinitionText } from "./parse-definition-text.js";
import { testCatalog } from "./test-support.js";
import { validateDefinition } from "./validate-definition.js";

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe("json limits", () => {
  it("measures bracket nesting outside strings, in JSON and YAML", () => {
    expect(textNestingDepth('{"a": [1, {"b": "[[[[["}]}')).toBe(3);
    expect(textNestingDepth("a: it's [1, [2]]\nb: '{{{'")).toBe(2);
    expect(textNestingDepth("[".repeat(100_000), 33)).toBe(33);
  });

  it("finds the first value nested too deep, at any depth, without recursion", () => {
    expect(findTooDeep({ a: nested(5) })).toBeUndefined();
    expect(findTooDeep({ a: nested(MAX_JSON_DEPTH) })).toBe(
      `.a${"[0]".repeat(MAX_JSON_DEPTH - 1)}`,
    );
    expect(findTooDeep(nested(200_000))).toBeDefined();
  });

  it("refuses deeply nested definition text before parsing it", () => {
    const text = `{"name":"d","params":{"p":${"[".repeat(100_000)}${"]".repeat(100_000)}},"tasks":[]}`;
    const parsed = parseDefinitionText(text);
    expect(parsed.document).toBeUndefined();
    expect(parsed.problems[0]?.message).toMatch(/nested deeper than 32 levels/);
  });

  it("refuses a deep document or deep run params, naming the field", () => {
    const catalog = testCatalog;
    const shallow = {
      name: "d",
      tasks: [{ id: "a", type: "shell", command: "x" }],
    };
    const deepDoc = validateDefinition(
      { ...shallow, params: { p: nested(40) } },
      { taskTypes: catalog },
    );
    expect(deepDoc.problems[0]).toMatchObject({
      field: expect.stringMatching(/^params\.p\[0\]/),
    });
    const deepParams = validateDefinition(shallow, {
      taskTypes: catalog,
      params: { q: nested(40) } as JsonObject,
    });
    expect(deepParams.problems[0]).toMatchObject({
      field: expect.stringMatching(/^params\.q/),
      message: expect.stringContaining("nested deeper"),
    });
  });

  it("lists every NUL in strings and keys, in document order", () => {
    const value = {
      a: ["ok", "x\u0000"],
      "k\u0000": { deeper: "\u0000" },
      b: { c: "\u0000y" },
    };
    expect(nulPaths(value)).toEqual([".a[1]", ".k\\u0000", ".b.c"]);
    expect(findNul(value)).toBe(".a[1]");
    expect(nulPaths({ a: "clean" })).toEqual([]);
  });
});
