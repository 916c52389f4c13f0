import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

describe("deerflow dev FILE (the README's quick start)", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "deerflow-dev-"));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it("runs the quick-start workflow on the embedded database and shows every task's final state", async () => {
    const result = await runCli([
      "dev",
      "examples/quick-start.yaml",
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
    ]);
    expect(result.code, result.stderr).toBe(0);
    for (const task of ["fetch", "left", "middle", "right", "join"]) {
      expect(result.stdout).toMatch(new RegExp(`^${task}\\s+SUCCESS`, "m"));
    }
    expect(result.stdout).toContain('{"result":{"total":27}}');
  });
});
