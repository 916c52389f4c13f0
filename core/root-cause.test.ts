import { describe, expect, it } from "vitest";
import { rootCause } from "./root-cause.js";

describe("rootCause", () => {
  it("reads past a wrapper to the driver's words and code", () => {
    const driver = Object.assign(
      new Error("connect ECONNREFUSED 127.0.0.1:1"),
      {
        code: "ECONNREFUSED",
      },
    );
    const wrapped = new Error("Failed query: select 1\nparams: ", {
      cause: driver,
    });
    expect(rootCause(wrapped)).toEqual({
      message: "connect ECONNREFUSED 127.0.0.1:1",
      code: "ECONNREFUSED",
    });
  });

  it("takes an error without a cause as it is, and a thrown value as text", () => {
    expect(rootCause(new Error("plain"))).toEqual({ message: "plain" });
    expect(rootCause("a string")).toEqual({ message: "a string" });
    expect(rootCause(undefined)).toEqual({ message: "undefined" });
    const numbered = Object.assign(new Error("odd"), { code: 42 });
    expect(rootCause(numbered)).toEqual({ message: "odd" });
  });

  it("stops on a cycle of causes", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(["a", "b"]).toContain(rootCause(a).message);
  });
});
