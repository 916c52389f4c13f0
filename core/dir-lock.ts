import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The lock file's name inside a locked directory. */
export const DIR_LOCK_FILE = "deerflow.lock";

/** How a directory is locked, and how its errors name it. */
export interface DirLockOptions {
  /**
   * What the directory is, as the operator set it: "data dir",
   * "--state-dir". Every error message starts with it.
   */
  label: string;
  /** Who else may hold it, said after the pid: "another deerflow agent?". */
  holder: string;
  /**
   * Whether a process still runs. The plugins' `isProcessAlive` tells a
   * zombie from a live process, which `kill(pid, 0)` alone does not.
   */
  isAlive(pid: number): Promise<boolean>;
}

/** Another live process holds the directory. */
export class DirInUseError extends Error {
  override readonly name = "DirInUseError";
  constructor(
    readonly dir: string,
    readonly pid: number,
    options: Pick<DirLockOptions, "label" | "holder">,
  ) {
    super(
      `${options.label} ${dir} is in use by process ${pid} (${options.holder})`,
    );
  }
}

/** An exclusive hold on a directory, until released. */
export interface DirLock {
  readonly path: string;
  /** Removes the lock file, if it is still this process's. */
  release(): Promise<void>;
}

/** Rounds of "create, else check the owner" before giving up. */
const ATTEMPTS = 5;

/**
 * Takes a directory for this process: the control plane's PGlite data
 * dir (PGlite has no lock of its own, and two processes on one directory
 * each overwrite what the other wrote), an agent's state dir (two agents
 * on one would share one agent id). The lock is a file holding the
 * owner's pid, created atomically; a lock whose pid is no longer alive (a
 * crashed or SIGKILLed owner) is taken over, and so is one naming this
 * process's own pid (in a container every restart is PID 1).
 *
 * Limits, plainly: the pid is checked on this host only, so a directory
 * shared over a network file system is not protected; a crashed owner's
 * pid reused by an unrelated process reads as alive (the message names
 * the pid, and removing the file frees the directory); and two processes
 * taking over the same stale lock at the same instant could both win.
 * A kernel lock (flock) would close all three, but Node has no API for it.
 */
/** The lock files this process holds now. */
const heldHere = new Set<string>();

export async function lockDir(
  dir: string,
  options: DirLockOptions,
): Promise<DirLock> {
  const path = join(dir, DIR_LOCK_FILE);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createLockFile(path)) {
      heldHere.add(path);
      return {
        path,
        release: async () => {
          heldHere.delete(path);
          await releaseLockFile(path);
        },
      };
    }
    const owner = await readOwner(path);
    if (owner === "gone") continue;
    // A lock naming this process that it does not hold was left by an
    // earlier life with the same pid: a container's PID 1 restarted on
    // a kept volume.
    const earlierLife = owner === process.pid && !heldHere.has(path);
    if (
      owner !== "unreadable" &&
      !earlierLife &&
      (await options.isAlive(owner))
    ) {
      throw new DirInUseError(dir, owner, options);
    }
    // The owner died without removing its lock: take the directory over.
    await unlinkIfPresent(path);
  }
  throw new Error(
    `${options.label} ${dir}: could not take the lock at ${path}`,
  );
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
