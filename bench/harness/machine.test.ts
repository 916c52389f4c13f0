import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeRevision } from "./machine.js";

describe("describeRevision", () => {
  let dir: string;
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-revision-"));
    git("init", "-q");
    await writeFile(join(dir, "code.ts"), "export {};\n");
    git("add", ".");
    git(
      "-c",
      "user.name=bench",
      "-c",
      "user.email=bench@localhost",
      "commit",
      "-qm",
      "code",
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("is clean while only the benchmark's own results changed", async () => {
    await mkdir(join(dir, "bench", "results"), { recursive: true });
    await writeFile(join(dir, "bench", "results", "throughput.json"), "{}");
    expect(describeRevision(dir)).toEqual({
      commit: git("rev-parse", "HEAD"),
      dirty: false,
    });
  });

  it("is dirty when code changed, whichever folder of the checkout it runs in", async () => {
    await mkdir(join(dir, "bench", "results"), { recursive: true });
    await writeFile(join(dir, "code.ts"), "export const changed = 1;\n");
    expect(describeRevision(dir).dirty).toBe(true);
    expect(describeRevision(join(dir, "bench")).dirty).toBe(true);
    expect(describeRevision(join(dir, "bench", "results")).dirty).toBe(true);
  });

  it("counts a file beside the results folder as a change", async () => {
    await mkdir(join(dir, "bench"), { recursive: true });
    await writeFile(join(dir, "bench", "results.md"), "#\n");
    expect(describeRevision(join(dir, "bench")).dirty).toBe(true);
  });
});
