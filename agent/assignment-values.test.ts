import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AssignmentSchema } from "../gen/deerflow/v1/agent_pb.js";
import { withJsonValues } from "./assignment-values.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("withJsonValues", () => {
  it("keeps an assignment whose config and context came as Structs", () => {
    const assignment = create(AssignmentSchema, {
      config: { command: "true" },
      context: { params: { n: 1 } },
    });
    expect(withJsonValues(assignment)).toBe(assignment);
  });

  it("reads the config and context from their JSON bytes", () => {
    const values = withJsonValues(
      create(AssignmentSchema, {
        taskId: "t",
        configJson: bytes('{"command":"echo ${params.n}","env":{"A":"é"}}'),
        contextJson: bytes('{"params":{"n":1.5,"list":[null,true]}}'),
      }),
    );
    expect(values.taskId).toBe("t");
    expect(values.config).toEqual({
      command: "echo ${params.n}",
      env: { A: "é" },
    });
    expect(values.context).toEqual({ params: { n: 1.5, list: [null, true] } });
    expect(values.configJson).toHaveLength(0);
    expect(values.contextJson).toHaveLength(0);
  });

  it("takes an empty config_json for an empty config", () => {
    const values = withJsonValues(
      create(AssignmentSchema, { contextJson: bytes("{}") }),
    );
    expect(values.config).toEqual({});
  });

  it.each([
    ["configJson", "{", /^assignment\.config_json: not UTF-8 JSON: /],
    [
      "contextJson",
      "[1]",
      /^assignment\.context_json: must be a JSON object, not an array$/,
    ],
    [
      "contextJson",
      "null",
      /^assignment\.context_json: must be a JSON object, not null$/,
    ],
    [
      "configJson",
      '"text"',
      /^assignment\.config_json: must be a JSON object, not string$/,
    ],
  ] as const)("names %s when it holds %s", (field, text, message) => {
    const assignment = create(AssignmentSchema, { [field]: bytes(text) });
    expect(() => withJsonValues(assignment)).toThrow(message);
  });

  it("names the field of bytes that are not UTF-8", () => {
    const assignment = create(AssignmentSchema, {
      configJson: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    expect(() => withJsonValues(assignment)).toThrow(
      /^assignment\.config_json: not UTF-8 JSON: /,
    );
  });
});
