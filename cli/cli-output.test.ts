import { describe, expect, it } from "vitest";
import { errorText } from "./cli-output.js";

describe("errorText", () => {
  it("gives the driver's reason for a failed database statement", () => {
    const cause = new Error("canceling statement due to statement timeout");
    const wrapped = new Error(
      'Failed query: select count(*)::int from "secrets"\nparams: ',
      { cause },
    );
    expect(errorText(wrapped)).toBe(
      "a database statement failed: canceling statement due to statement timeout",
    );
  });

  it("keeps any other message as it is", () => {
    expect(errorText(new Error("port 7233 is in use"))).toBe(
      "port 7233 is in use",
    );
    expect(errorText("plain")).toBe("plain");
  });
});
