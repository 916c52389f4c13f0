import { describe, expect, it } from "vitest";
import {
  keysParsed,
  keysWritten,
  parseDefinitionText,
} from "./parse-definition-text.js";

describe("parseDefinitionText", () => {
  it("guesses JSON from a leading brace and YAML otherwise", () => {
    expect(parseDefinitionText(' \n{"name": "a"}')).toEqual({
      document: { name: "a" },
      problems: [],
    });
    expect(parseDefinitionText("name: a\nparams: { on: yes }\n")).toEqual({
      document: { name: "a", params: { on: "yes" } },
      problems: [],
    });
  });

  it("reads YAML 1.2: dates stay strings, booleans are only true/false", () => {
    const { document } = parseDefinitionText(
      "date: 2026-12-01\nflag: true\nword: no\nn: 08\n",
      "yaml",
    );
    expect(document).toEqual({
      date: "2026-12-01",
      flag: true,
      word: "no",
      n: 8,
    });
  });

  it("keeps label and env values as written where YAML would read another number", () => {
    const { document } = parseDefinitionText(
      [
        "name: wf",
        "params: {build: 007}",
        "defaults:",
        "  node_selector: {rack: 007}",
        "tasks:",
        "  - id: a",
        "    type: shell",
        "    command: echo",
        "    timeout: 007",
        "    node_selector: {cuda: 12.0, count: 2, hex: 0x1F, quoted: '08'}",
        "    env: {PORT: 08, BIG: 1e3, N: 5}",
        "    labels: {tier: 01}",
        "    affinity:",
        "      - {key: rack, operator: In, values: [007, 7, 12.50]}",
        "    resources: {gpu: {type: 1080.0, count: 02}, storage: {type: 01}}",
        "",
      ].join("\n"),
      "yaml",
    );
    expect(document).toEqual({
      name: "wf",
      // Params keep YAML's numbers, as do numeric fields.
      params: { build: 7 },
      defaults: { node_selector: { rack: "007" } },
      tasks: [
        {
          id: "a",
          type: "shell",
          command: "echo",
          timeout: 7,
          node_selector: { cuda: "12.0", count: 2, hex: "0x1F", quoted: "08" },
          env: { PORT: "08", BIG: "1e3", N: 5 },
          labels: { tier: "01" },
          affinity: [
            { key: "rack", operator: "In", values: ["007", 7, "12.50"] },
          ],
          // A GPU type is a model's name; a count is a number.
          resources: {
            gpu: { type: "1080.0", count: 2 },
            storage: { type: 1 },
          },
        },
      ],
    });
  });

  it("reports a JSON syntax error with line:column", () => {
    const { document, problems } = parseDefinitionText(
      '{\n  "name": "a",\n  "tasks": [1,,2]\n}',
    );
    expect(document).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]?.taskId).toBe("");
    expect(problems[0]?.message).toMatch(/^line 3:\d+: /);
  });

  it("locates JSON errors that V8 reports without a position", () => {
    const { problems } = parseDefinitionText('{"name": }', "json");
    expect(problems[0]?.message).toMatch(/^line 1:\d+: Unexpected token/);
    const truncated = parseDefinitionText('{"name": "a"', "json");
    expect(truncated.problems[0]?.message).toMatch(/^line 1:\d+: /);
  });

  it("reports a repeated key in JSON instead of keeping the last", () => {
    const { document, problems } = parseDefinitionText(
      '{"name": "a",\n "name": "b"}',
    );
    expect(document).toBeUndefined();
    expect(problems[0]?.message).toMatch(/^line 2:2: Map keys must be unique/);
  });

  it("finds a repeated key nested deep, or named __proto__", () => {
    const nested = parseDefinitionText(
      '{"tasks": [{"id": "a", "config": {"x": 1,\n"x": 2}}]}',
    );
    expect(nested.problems[0]?.message).toMatch(/^line 2:1: Map keys must/);
    const proto = parseDefinitionText('{"__proto__": 1, "__proto__": 2}');
    expect(proto.problems[0]?.message).toMatch(/Map keys must be unique/);
  });

  it("does not take strings with quotes, colons or escapes for keys", () => {
    const text = JSON.stringify({
      name: "w",
      tasks: [
        { id: "a", command: 'echo "x": \\"y":' },
        { id: "b", list: ["k", ":", 'q"', "\\"], 'we"ird:': { ":": "" } },
      ],
    });
    const { document, problems } = parseDefinitionText(text);
    expect(problems).toEqual([]);
    expect(document).toEqual(JSON.parse(text));
    // The same keys spread over lines and spaces, as a person writes them.
    const spaced = parseDefinitionText(
      JSON.stringify(JSON.parse(text), null, 2),
    );
    expect(spaced.problems).toEqual([]);
    // Counted exactly, so the slow second parse is not taken.
    expect(keysWritten(text)).toBe(8);
    expect(keysParsed(document)).toBe(8);
    expect(keysWritten(JSON.stringify(JSON.parse(text), null, 2))).toBe(8);
  });

  it("reports YAML errors with line:column, without the source excerpt", () => {
    const { problems } = parseDefinitionText("name: a\ntasks: [1\nx: 2\n");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.message).toMatch(/^line \d+:\d+: [^\n]+$/);
    const repeated = parseDefinitionText("name: a\nname: b\n");
    expect(repeated.problems[0]?.message).toBe(
      "line 2:1: Map keys must be unique",
    );
  });

  it("reports several YAML documents in one text", () => {
    const { problems } = parseDefinitionText("name: a\n---\nname: b\n");
    expect(problems.length).toBeGreaterThan(0);
  });
});
