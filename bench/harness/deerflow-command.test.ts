import { describe, expect, it } from "vitest";
import { deerflowNodeFlags, nodeFlagsOfScript } from "./deerflow-command.js";

describe("deerflow command", () => {
  it("reads node flags from a script that runs bin/deerflow.js", () => {
    expect(
      nodeFlagsOfScript("node --max-semi-space-size=64 bin/deerflow.js"),
    ).toEqual(["--max-semi-space-size=64"]);
    expect(
      nodeFlagsOfScript("node --a --b=2 bin/deerflow.js dev x.yaml"),
    ).toEqual(["--a", "--b=2"]);
    expect(nodeFlagsOfScript("node bin/deerflow.js")).toEqual([]);
    expect(nodeFlagsOfScript("tsx bench/run.ts")).toEqual([]);
  });

  it("starts the command as npm run deerflow and npm run demo do", () => {
    expect(deerflowNodeFlags()).toEqual(["--max-semi-space-size=64"]);
    expect(deerflowNodeFlags("demo")).toEqual(deerflowNodeFlags());
  });
});
