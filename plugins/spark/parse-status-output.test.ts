import { describe, expect, it } from "vitest";
import { parseSubmitStatus, parseYarnStatus } from "./parse-status-output.js";

describe("parseSubmitStatus", () => {
  it("reads the REST gateway's driver state", () => {
    const output = [
      "INFO RestSubmissionClient: Server responded with SubmissionStatusResponse:",
      "{",
      '  "action" : "SubmissionStatusResponse",',
      '  "driverState" : "RUNNING",',
      '  "success" : true',
      "}",
    ].join("\n");
    expect(parseSubmitStatus(output)).toEqual({
      state: "RUNNING",
      final: false,
      succeeded: false,
    });
  });

  it("counts FINISHED as success and ERROR, KILLED, FAILED as failure", () => {
    expect(parseSubmitStatus('"driverState" : "FINISHED"')).toMatchObject({
      final: true,
      succeeded: true,
    });
    for (const state of ["ERROR", "KILLED", "FAILED"]) {
      expect(parseSubmitStatus(`"driverState" : "${state}"`)).toMatchObject({
        final: true,
        succeeded: false,
      });
    }
  });

  it("reads the legacy client and a Kubernetes pod phase", () => {
    expect(
      parseSubmitStatus("State of driver-20240101000000-0001 is FINISHED"),
    ).toMatchObject({ state: "FINISHED", final: true });
    expect(
      parseSubmitStatus("\t pod name: x-driver\n\t phase: Succeeded"),
    ).toEqual({ state: "Succeeded", final: true, succeeded: true });
  });

  it("has no state for a driver the gateway does not know", () => {
    expect(
      parseSubmitStatus(
        '"message" : "Driver x not found.",\n"success" : false',
      ),
    ).toBeUndefined();
  });
});

describe("parseYarnStatus", () => {
  const report = (state: string, final: string) =>
    `Application Report : \n\tState : ${state}\n\tFinal-State : ${final}\n`;

  it("reads a running and an ended application", () => {
    expect(parseYarnStatus(report("RUNNING", "UNDEFINED"))).toEqual({
      state: "RUNNING",
      final: false,
      succeeded: false,
    });
    expect(parseYarnStatus(report("FINISHED", "SUCCEEDED"))).toEqual({
      state: "FINISHED/SUCCEEDED",
      final: true,
      succeeded: true,
    });
    expect(parseYarnStatus(report("FINISHED", "FAILED"))).toMatchObject({
      final: true,
      succeeded: false,
    });
    expect(parseYarnStatus(report("KILLED", "KILLED"))?.succeeded).toBe(false);
  });

  it("has no state for output without a report", () => {
    expect(parseYarnStatus("Application with id 'x' doesn't exist")).toBe(
      undefined,
    );
  });
});
