import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  decodeWorkflowPageToken,
  encodeWorkflowPageToken,
} from "./workflow-page-token.js";

function refusal(raw: string, name: string): ConnectError | undefined {
  try {
    decodeWorkflowPageToken(raw, name);
    return undefined;
  } catch (error) {
    return error as ConnectError;
  }
}

describe("workflow page tokens", () => {
  it("round-trip for the list they belong to", () => {
    const afterName = encodeWorkflowPageToken({
      kind: "after_name",
      name: "etl",
    });
    expect(decodeWorkflowPageToken(afterName, "")).toEqual({
      kind: "after_name",
      name: "etl",
    });
    const below = encodeWorkflowPageToken({
      kind: "below_version",
      name: "etl",
      version: 4,
    });
    expect(decodeWorkflowPageToken(below, "etl")).toEqual({
      kind: "below_version",
      name: "etl",
      version: 4,
    });
  });

  it("are refused by another list, naming page_token", () => {
    const below = encodeWorkflowPageToken({
      kind: "below_version",
      name: "etl",
      version: 4,
    });
    for (const name of ["", "other"]) {
      const error = refusal(below, name);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toMatch(/^page_token: /);
    }
  });

  it("refuse garbage and forged values", () => {
    const forged = (value: unknown) =>
      Buffer.from(JSON.stringify(value)).toString("base64url");
    for (const [raw, name] of [
      ["not base64 at all!", ""],
      [forged(null), ""],
      [forged({ kind: "after_name", name: "a\u0000b" }), ""],
      [forged({ kind: "after_name", name: 7 }), ""],
      [forged({ kind: "below_version", name: "x", version: 0 }), "x"],
      [forged({ kind: "below_version", name: "x", version: 2 ** 31 }), "x"],
      [forged({ kind: "below_version", name: "x", version: 1.5 }), "x"],
    ] as const) {
      expect(refusal(raw, name)?.code).toBe(Code.InvalidArgument);
    }
  });
});
