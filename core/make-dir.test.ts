import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDir } from "./make-dir.js";

describe("makeDir", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "deerflow-make-dir-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("makes missing parents, with the mode asked for", async () => {
    const dir = join(root, "a", "b", "c");
    await makeDir(dir, 0o700);
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect((await stat(join(root, "a"))).mode & 0o777).toBe(0o700);
    await makeDir(dir); // already there: fine
  });

  it("fails on a file in the way", async () => {
    await writeFile(join(root, "file"), "");
    await expect(makeDir(join(root, "file"))).rejects.toThrow(/EEXIST/);
    await expect(makeDir(join(root, "file", "sub"))).rejects.toThrow(/ENOTDIR/);
  });

  it("fails, rather than trying for ever, where creating is refused", async () => {
    // procfs answers every create with ENOENT; Node's recursive mkdir
    // loops on it.
    await expect(makeDir("/proc/deerflow-make-dir/x")).rejects.toThrow(
      /ENOENT/,
    );
  });
});
