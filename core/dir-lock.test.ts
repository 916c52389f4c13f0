import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "../plugins/index.js";
import { DIR_LOCK_FILE, type DirLockOptions, lockDir } from "./dir-lock.js";

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ["-e", ""]);
  if (pid === undefined) throw new Error("no pid from spawnSync");
  return pid;
}

const options: DirLockOptions = {
  label: "--some-dir",
  holder: "another test?",
  isAlive: isProcessAlive,
};

describe("lockDir", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-lock-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("holds the directory for one owner, then frees it on release", async () => {
    const first = await lockDir(dir, options);
    expect(await readFile(first.path, "utf8")).toBe(
      `${process.pid}\n${hostname()}\n`,
    );
    await expect(lockDir(dir, options)).rejects.toThrow(
      `--some-dir ${dir} is in use by process ${process.pid} (another test?)`,
    );
    await first.release();
    const again = await lockDir(dir, options);
    await again.release();
    await expect(readFile(again.path)).rejects.toThrow(/ENOENT/);
  });

  it("takes over a lock whose owner is dead", async () => {
    const path = join(dir, DIR_LOCK_FILE);
    const dead = deadPid();
    await writeFile(path, `${dead}\n`);
    const lock = await lockDir(dir, options);
    expect(lock.tookOver).toEqual({ pid: dead });
    expect(await readFile(path, "utf8")).toBe(
      `${process.pid}\n${hostname()}\n`,
    );
    await lock.release();
  });

  it("writes its token and says whose lock it took over", async () => {
    const path = join(dir, DIR_LOCK_FILE);
    const dead = deadPid();
    await writeFile(path, `${dead}\n${hostname()}\nkilled-token\n`);
    const lock = await lockDir(dir, { ...options, token: "my-token" });
    expect(lock.tookOver).toEqual({
      pid: dead,
      host: hostname(),
      token: "killed-token",
    });
    expect(await readFile(path, "utf8")).toBe(
      `${process.pid}\n${hostname()}\nmy-token\n`,
    );
    await lock.release();
  });

  it("refuses a token that is not one line of printable ASCII", async () => {
    for (const token of ["two\nlines", "a space", "x".repeat(129)]) {
      await expect(lockDir(dir, { ...options, token })).rejects.toThrow(
        `--some-dir ${dir}: a lock token is 1 to 128 printable ASCII characters without spaces`,
      );
    }
  });

  it("reads no token from a third line that could not be one", async () => {
    // Edited by hand, or from another program: the lock is still taken
    // over, and names no predecessor the control plane would refuse.
    const path = join(dir, DIR_LOCK_FILE);
    for (const third of ["has space token", "x".repeat(129), "tökén"]) {
      const dead = deadPid();
      await writeFile(path, `${dead}\n${hostname()}\n${third}\n`);
      const lock = await lockDir(dir, { ...options, token: "mine" });
      expect(lock.tookOver).toEqual({ pid: dead, host: hostname() });
      await lock.release();
    }
  });

  it("takes over a lock naming its own pid that it does not hold", async () => {
    // A container's PID 1, restarted on a kept volume, finds its own pid
    // in the lock its killed predecessor left.
    await writeFile(join(dir, DIR_LOCK_FILE), `${process.pid}\n`);
    const lock = await lockDir(dir, options);
    expect(await readFile(lock.path, "utf8")).toBe(
      `${process.pid}\n${hostname()}\n`,
    );
    await expect(lockDir(dir, options)).rejects.toThrow(/is in use by process/);
    await lock.release();
  });

  it("takes over a lock file that names no pid", async () => {
    await writeFile(join(dir, DIR_LOCK_FILE), "");
    const lock = await lockDir(dir, options);
    await lock.release();
  });

  it("never takes over a lock of another host name, even naming its own pid", async () => {
    // Two containers on one volume are both PID 1 and cannot see each
    // other's processes: only the host name tells them apart.
    const path = join(dir, DIR_LOCK_FILE);
    await writeFile(path, `${process.pid}\nanother-container\n`);
    await expect(lockDir(dir, options)).rejects.toThrow(
      `--some-dir ${dir} is in use by process ${process.pid} on host another-container (another test?); if that process is gone, remove ${path}`,
    );
    expect(await readFile(path, "utf8")).toBe(
      `${process.pid}\nanother-container\n`,
    );
  });

  it("leaves a lock that another host's owner took over", async () => {
    const lock = await lockDir(dir, options);
    const other = `${process.pid}\nanother-container\n`;
    await writeFile(lock.path, other);
    await lock.release();
    expect(await readFile(lock.path, "utf8")).toBe(other);
  });

  it("leaves a lock that another owner took over", async () => {
    const lock = await lockDir(dir, options);
    const other = `${process.ppid}\n`;
    await writeFile(lock.path, other);
    await lock.release();
    expect(await readFile(lock.path, "utf8")).toBe(other);
  });
});
