import { describe, expect, it } from "vitest";
import { abortReasonOfCancel } from "./cancel-reason.js";

describe("abortReasonOfCancel", () => {
  it("maps each Cancel reason of agent.proto to an abort reason", () => {
    expect(abortReasonOfCancel("lost")).toBe("lost");
    expect(abortReasonOfCancel("stale")).toBe("stale");
    expect(abortReasonOfCancel("revoked")).toBe("revoked");
    expect(abortReasonOfCancel("killed")).toBe("killed");
    expect(abortReasonOfCancel("cancelled")).toBe("killed");
  });

  it("treats an unknown or empty reason as a kill", () => {
    expect(abortReasonOfCancel("")).toBe("killed");
    expect(abortReasonOfCancel("whatever")).toBe("killed");
  });
});
