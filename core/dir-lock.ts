import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
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
  /**
   * Written into the lock beside the pid and host name, for whoever
   * takes the lock over after this process dies ({@link DirLock.tookOver}):
   * an agent's process token. One line of printable text.
   */
  token?: string;
}

/** Another live process holds the directory. */
export class DirInUseError extends Error {
  override readonly name = "DirInUseError";
  constructor(
    readonly dir: string,
    readonly pid: number,
    options: Pick<DirLockOptions, "label" | "holder">,
    /** Set when the owner is on another host (or container). */
    readonly host?: string,
  ) {
    super(
      host === undefined
        ? `${options.label} ${dir} is in use by process ${pid} (${options.holder})`
        : `${options.label} ${dir} is in use by process ${pid} on host ${host} ` +
            `(${options.holder}); if that process is gone, remove ` +
            `${join(dir, DIR_LOCK_FILE)}`,
    );
  }
}

/** An exclusive hold on a directory, until released. */
export interface DirLock {
  readonly path: string;
  /**
   * The owner whose lock this process took over because it had died;
   * undefined when the directory was free (its last owner released it).
   */
  readonly tookOver?: LockOwner;
  /** Removes the lock file, if it is still this process's. */
  release(): Promise<void>;
}

/**
 * A token as a lock holds it: what a control plane takes as an agent's
 * process token. Another third line (edited, or cut short) is no token.
 */
export const LOCK_TOKEN = /^[\x21-\x7e]{1,128}$/;

/** Rounds of "create, else check the owner" before giving up. */
const ATTEMPTS = 5;

/**
 * Takes a directory for this process: the control plane's PGlite data
 * dir (PGlite has no lock of its own, and two processes on one directory
 * each overwrite what the other wrote), an agent's state dir (two agents
 * on one would share one agent id). The lock is a file holding the
 * owner's pid, host name and token (an agent's process token), created
 * atomically. A lock of this host is
 * taken over when its pid is no longer alive (a crashed or SIGKILLed
 * owner), or when it names this process's own pid without this process
 * holding it (an earlier life: in a container every restart is PID 1,
 * and the container keeps its host name). A lock of another host name is
 * never taken over: its pid cannot be checked from here (two containers
 * on one volume are both PID 1), so the error says which file to remove.
 *
 * Limits, plainly: a crashed owner's
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
  const token = options.token ?? "";
  if (token !== "" && !LOCK_TOKEN.test(token)) {
    throw new Error(
      `${options.label} ${dir}: a lock token is 1 to 128 printable ASCII characters without spaces`,
    );
  }
  let tookOver: LockOwner | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createLockFile(path, token)) {
      heldHere.add(path);
      return {
        path,
        ...(tookOver ? { tookOver } : {}),
        release: async () => {
          heldHere.delete(path);
          await releaseLockFile(path);
        },
      };
    }
    const owner = await readOwner(path);
    if (owner === "gone") continue;
    if (owner !== "unreadable") {
      const { pid, host } = owner;
      if (host !== undefined && host !== hostname()) {
        throw new DirInUseError(dir, pid, options, host);
      }
      const earlierLife = pid === process.pid && !heldHere.has(path);
      if (!earlierLife && (await options.isAlive(pid))) {
        throw new DirInUseError(dir, pid, options);
      }
    }
    // The owner died without removing its lock: take the directory over.
    if (owner !== "unreadable") tookOver = owner;
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
async function createLockFile(path: string, token: string): Promise<boolean> {
  const draft = `${path}.${process.pid}`;
  const text = `${process.pid}\n${hostname()}\n${token ? `${token}\n` : ""}`;
  await writeFile(draft, text, { flag: "wx" }).catch(
    async (error: NodeJS.ErrnoException) => {
      // Left by this pid in an earlier life: it is ours to replace.
      if (error.code !== "EEXIST") throw error;
      await writeFile(draft, text);
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

/**
 * A lock's owner: its pid, its host name (absent in old locks) and the
 * token it wrote, if it wrote one.
 */
export interface LockOwner {
  pid: number;
  host?: string;
  token?: string;
}

async function readOwner(
  path: string,
): Promise<LockOwner | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  const [first, second, third] = text.split("\n");
  const pid = Number(first?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return "unreadable";
  const host = second?.trim();
  const token = third?.trim() ?? "";
  return {
    pid,
    ...(host ? { host } : {}),
    ...(LOCK_TOKEN.test(token) ? { token } : {}),
  };
}

async function releaseLockFile(path: string): Promise<void> {
  // A lock taken over after this process was thought dead is not ours.
  const owner = await readOwner(path);
  if (
    typeof owner === "object" &&
    owner.pid === process.pid &&
    (owner.host === undefined || owner.host === hostname())
  ) {
    await unlinkIfPresent(path);
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}
