import { access, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkDir } from "./work-dir.js";

describe("an attempt's work dir", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "deerflow-work-root-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("is made only when asked for, once, and removed with its files", async () => {
    const dir = new WorkDir(root);
    expect(await readdir(root)).toEqual([]);
    const path = dir.path;
    expect(dir.path).toBe(path);
    await writeFile(join(path, "f"), "x");
    expect(await readdir(root)).toHaveLength(1);
    await dir.remove();
    await expect(access(path)).rejects.toThrow();
  });

  it("leaves nothing behind when never asked for, nor when asked too late", async () => {
    const dir = new WorkDir(root);
    await dir.remove();
    // A plugin that outlived its attempt's end reads ctx.workDir.
    expect(() => dir.path).toThrow(/the attempt has ended/);
    expect(await readdir(root)).toEqual([]);
  });
});
