import { spawnSync } from "node:child_process";
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
    await expect(lockStateDir(file, "token-1")).rejects.toThrow(
      new RegExp(`^--state-dir ${file}: cannot create it: EEXIST`),
    );
  });

  it("names the flag for a dir under a file system that refuses it", async () => {
    await expect(
      lockStateDir("/proc/deerflow-agent/state", "token-1"),
    ).rejects.toThrow(
      /^--state-dir \/proc\/deerflow-agent\/state: cannot create it: ENOENT/,
    );
  });

  it("creates the dir and holds it until released", async () => {
    const stateDir = join(dir, "nested", "state");
    const lock = await lockStateDir(stateDir, "token-1");
    expect(lock.tookOver).toBeUndefined();
    await expect(lockStateDir(stateDir, "token-2")).rejects.toThrow(
      `--state-dir ${stateDir} is in use by process ${process.pid}`,
    );
    await lock.release();
  });

  it("names the token of a killed predecessor's lock it takes over", async () => {
    const stateDir = join(dir, "state");
    // A killed agent left its lock; the next one takes it over.
    const killed = spawnSync(
      process.execPath,
      [
        "--import",
        import.meta.resolve("tsx"),
        "--input-type=module",
        "-e",
        `const { lockStateDir } = await import(${JSON.stringify(
          new URL("./state-dir-lock.ts", import.meta.url).href,
        )});
      await lockStateDir(${JSON.stringify(stateDir)}, "killed-token");
      process.kill(process.pid, "SIGKILL");`,
      ],
      { stdio: "inherit" },
    );
    expect(killed.signal).toBe("SIGKILL");
    const next = await lockStateDir(stateDir, "next-token");
    expect(next.tookOver).toMatchObject({ token: "killed-token" });
    await next.release();
    // Released cleanly: the one after took over nothing.
    const after = await lockStateDir(stateDir, "after-token");
    expect(after.tookOver).toBeUndefined();
    await after.release();
  });
});
