import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isProcessAlive } from "../../plugins/index.js";

/** The lock file's name inside a PGlite data directory. */
export const DATA_DIR_LOCK_FILE = "deerflow.lock";

/** Another live process holds the data directory. */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `data dir ${dataDir} is in use by process ${pid} (another deerflow server or dev?)`,
    );
  }
}

/** An exclusive hold on a data directory, until released. */
export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file, if it is still this process's. */
  release(): Promise<void>;
}

/** Rounds of "create, else check the owner" before giving up. */
const ATTEMPTS = 5;

/**
 * Takes the data directory for this process. PGlite has no lock of its
 * own: two processes on one directory both start and each overwrites
 * what the other wrote. The lock is a file holding the owner's pid,
 * created atomically; a lock whose pid is no longer alive (a crashed or
 * killed owner) is taken over.
 *
 * Limits, plainly: the pid is checked on this host only, so a directory
 * shared over a network file system is not protected; a crashed owner's
 * pid reused by an unrelated process reads as alive (the message names
 * the pid, and removing the file frees the directory); and two processes
 * taking over the same stale lock at the same instant could both win.
 * A kernel lock (flock) would close all three, but Node has no API for it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createLockFile(path)) {
      return { path, release: () => releaseLockFile(path) };
    }
    const owner = await readOwner(path);
    if (owner === "gone") continue;
    if (owner !== "unreadable" && (await isProcessAlive(owner))) {
      throw new DataDirInUseError(dataDir, owner);
    }
    // The owner died without removing its lock: take the directory over.
    await unlinkIfPresent(path);
  }
  throw new Error(`data dir ${dataDir}: could not take the lock at ${path}`);
}

/**
 * Creates the lock file with this process's pid, or returns false when
 * one exists. The pid goes into a private file first (created O_EXCL)
 * which is then hard-linked into place: link() fails when the name
 * exists, and nobody ever sees a lock file without its pid.
 */
async function createLockFile(path: string): Promise<boolean> {
  const draft = `${path}.${process.pid}`;
  await writeFile(draft, `${process.pid}\n`, { flag: "wx" }).catch(
    async (error: NodeJS.ErrnoException) => {
      // Left by this pid in an earlier life: it is ours to replace.
      if (error.code !== "EEXIST") throw error;
      await writeFile(draft, `${process.pid}\n`);
    },
  );
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlinkIfPresent(draft);
  }
}

async function readOwner(
  path: string,
): Promise<number | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : "unreadable";
}

async function releaseLockFile(path: string): Promise<void> {
  // A lock taken over after this process was thought dead is not ours.
  if ((await readOwner(path)) === process.pid) await unlinkIfPresent(path);
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}
