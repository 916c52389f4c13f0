import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deerflow-plugin-test-"));
  // Ignores its abort signal: the timeout and cancel checks must catch it.
  await writeFile(
    join(dir, "stubborn.mjs"),
    `export default (sdk) => sdk.definePlugin({
  type: "stubborn", version: "0.1.0",
  configSchema: { type: "object", properties: { fail: { type: "boolean" }, ms: { type: "integer" } }, additionalProperties: false },
  async execute(ctx) {
    ctx.log.info("working");
    await new Promise((r) => setTimeout(r, ctx.config.ms ?? 0));
    if (ctx.config.fail) throw new sdk.TaskError("asked to fail");
  },
});
export const conformance = {
  success: { config: {} },
  failure: { config: { fail: true } },
  longRunning: { config: { ms: 2500 } },
  invalidConfigs: [{ config: { fail: "yes" }, field: "config.fail" }],
};
`,
  );
  await writeFile(
    join(dir, "no-cases.mjs"),
    `export default (sdk) => sdk.definePlugin({ type: "plain", version: "1.0.0",
  configSchema: { type: "object" }, async execute() {} });`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("deerflow plugin test", () => {
  it("passes the example plugin, check by check", async () => {
    const result = await runCli([
      "plugin",
      "test",
      "./examples/plugins/port-sensor",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("port_sensor 1.0.0");
    for (const check of [
      "definition",
      "success",
      "failure",
      "timeout reaches the work",
      "cancel reaches the work",
    ]) {
      expect(result.stdout).toMatch(new RegExp(`ok +${check}`));
    }
    expect(result.stdout).toContain("all checks passed");
  });

  it("fails a plugin that ignores its abort signal, and says which checks", async () => {
    const result = await runCli([
      "plugin",
      "test",
      join(dir, "stubborn.mjs"),
      "--timeout-ms",
      "100",
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/ok +success/);
    expect(result.stdout).toMatch(
      /FAIL timeout reaches the work: outcome success, want timed_out/,
    );
    expect(result.stdout).toMatch(/FAIL cancel reaches the work/);
  });

  it("explains a module without conformance cases, and a path that is not there", async () => {
    const noCases = await runCli(["plugin", "test", join(dir, "no-cases.mjs")]);
    expect(noCases.code).toBe(2);
    expect(noCases.stderr).toContain("exports no `conformance` cases");
    const missing = await runCli(["plugin", "test", "./nope/plugin.js"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      "./nope/plugin.js: no such file or directory",
    );
  });
});
