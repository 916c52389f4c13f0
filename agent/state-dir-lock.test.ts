import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockStateDir } from "./state-dir-lock.js";

describe("lockStateDir", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-state-dir-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("names the flag and the path when the dir cannot be made", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "");
    await expect(lockStateDir(file)).rejects.toThrow(
      new RegExp(`^--state-dir ${file}: cannot create it: EEXIST`),
    );
  });

  it("names the flag for a dir under a file system that refuses it", async () => {
    await expect(lockStateDir("/proc/deerflow-agent/state")).rejects.toThrow(
      /^--state-dir \/proc\/deerflow-agent\/state: cannot create it: ENOENT/,
    );
  });

  it("creates the dir and holds it until released", async () => {
    const stateDir = join(dir, "nested", "state");
    const lock = await lockStateDir(stateDir);
    await expect(lockStateDir(stateDir)).rejects.toThrow(
      `--state-dir ${stateDir} is in use by process ${process.pid}`,
    );
    await lock.release();
  });
});
