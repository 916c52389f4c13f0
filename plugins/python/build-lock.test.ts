import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireBuildLock } from "./build-lock.js";

let dir: string;
let lockPath: string;
const live = () => new AbortController().signal;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "deerflow-lock-"));
  lockPath = join(dir, "build.lock");
});

afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("acquireBuildLock", () => {
  it("lets one holder in at a time", async () => {
    const first = await acquireBuildLock(lockPath, { signal: live() });
    expect(first).toBeDefined();
    let waited = false;
    const second = acquireBuildLock(lockPath, {
      signal: live(),
      pollMs: 10,
      onWait: () => {
        waited = true;
      },
    });
    await expect.poll(() => waited).toBe(true);
    await first?.release();
    const lock = await second;
    expect(lock).toBeDefined();
    await lock?.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("stops waiting when the work is done or the signal aborts", async () => {
    const held = await acquireBuildLock(lockPath, { signal: live() });
    const done = await acquireBuildLock(lockPath, {
      signal: live(),
      done: async () => true,
    });
    expect(done).toBeUndefined();
    const abort = new AbortController();
    const waiting = acquireBuildLock(lockPath, {
      signal: abort.signal,
      pollMs: 10,
    });
    abort.abort();
    expect(await waiting).toBeUndefined();
    await held?.release();
  });

  it("breaks the lock of a holder that died", async () => {
    await writeFile(
      lockPath,
      JSON.stringify({
        pid: await deadPid(),
        hostname: hostname(),
        token: "dead",
        created_at: new Date().toISOString(),
      }),
    );
    const lock = await acquireBuildLock(lockPath, {
      signal: live(),
      pollMs: 10,
    });
    expect(lock).toBeDefined();
    await lock?.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("breaks an old lock of another host, but waits on a fresh one", async () => {
    const holder = (createdAt: Date) =>
      JSON.stringify({
        pid: 1,
        hostname: "elsewhere.test",
        token: "other",
        created_at: createdAt.toISOString(),
      });
    await writeFile(lockPath, holder(new Date(Date.now() - 7_200_000)));
    const lock = await acquireBuildLock(lockPath, { signal: live() });
    expect(lock).toBeDefined();
    await lock?.release();

    await writeFile(lockPath, holder(new Date()));
    let waited = false;
    const abort = new AbortController();
    const waiting = acquireBuildLock(lockPath, {
      signal: abort.signal,
      pollMs: 10,
      onWait: () => {
        waited = true;
        abort.abort();
      },
    });
    expect(await waiting).toBeUndefined();
    expect(waited).toBe(true);
  });
});
