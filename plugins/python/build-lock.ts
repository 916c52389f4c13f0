import { randomUUID } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { isProcessAlive } from "../process/index.js";

/** Who holds a lock, as its file says. */
interface LockHolder {
  pid: number;
  hostname: string;
  token: string;
  created_at: string;
}

/** Options of {@link acquireBuildLock}. */
export interface BuildLockOptions {
  /** Aborting it ends the wait; the call then resolves undefined. */
  signal: AbortSignal;
  /** Time between two tries while another holds the lock. Default 250. */
  pollMs?: number;
  /**
   * Age after which a lock counts as abandoned even when its holder may
   * be alive (another host's, which cannot be checked). Default one hour.
   */
  staleMs?: number;
  /** Checked between tries: true ends the wait without the lock. */
  done?(): Promise<boolean>;
  /** Called once when the lock is found held by another. */
  onWait?(holder: { pid: number; hostname: string }): void;
}

/** A lock held; `release` removes it if it is still ours. */
export interface BuildLock {
  release(): Promise<void>;
}

const DEFAULT_POLL_MS = 250;
const DEFAULT_STALE_MS = 3_600_000;
/** A lock file still empty after this long was never going to be written. */
const UNWRITTEN_LOCK_MS = 10_000;

/**
 * Takes a lock file (created with O_EXCL, so one process wins) that
 * keeps concurrent attempts, in this agent or another sharing the cache,
 * from building the same thing twice. Waits while another holds it,
 * breaks it when its holder died (same host) or it is older than
 * `staleMs`, and resolves undefined instead when `done()` says the work
 * is there or the signal aborts.
 */
export async function acquireBuildLock(
  path: string,
  options: BuildLockOptions,
): Promise<BuildLock | undefined> {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  let waiting = false;
  for (;;) {
    if (options.signal.aborted) return undefined;
    const lock = await tryCreate(path);
    if (lock !== undefined) return lock;
    if (await options.done?.()) return undefined;
    const holder = await readHolder(path);
    if (
      holder === undefined
        ? await isUnreadableAndOld(path)
        : await isAbandoned(holder, staleMs)
    ) {
      await breakLock(path, holder);
      continue;
    }
    if (!waiting && holder !== undefined) {
      waiting = true;
      options.onWait?.({ pid: holder.pid, hostname: holder.hostname });
    }
    await pause(pollMs, options.signal);
  }
}

async function tryCreate(path: string): Promise<BuildLock | undefined> {
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    token: randomUUID(),
    created_at: new Date().toISOString(),
  };
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(holder));
  } finally {
    await handle.close();
  }
  return {
    async release() {
      const current = await readHolder(path);
      if (current?.token === holder.token) await unlink(path).catch(() => {});
    },
  };
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as LockHolder;
    return typeof parsed.token === "string" ? parsed : undefined;
  } catch {
    // Gone, or being written this instant: look again next round.
    return undefined;
  }
}

async function isAbandoned(
  holder: LockHolder,
  staleMs: number,
): Promise<boolean> {
  const age = Date.now() - Date.parse(holder.created_at);
  if (!(age < staleMs)) return true;
  return holder.hostname === hostname() && !(await isProcessAlive(holder.pid));
}

/**
 * A lock file that does not hold a holder (its creator died between
 * creating and writing it) and is too old to be in the middle of that.
 */
async function isUnreadableAndOld(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > UNWRITTEN_LOCK_MS;
}

/**
 * Removes an abandoned lock. It is first renamed aside (atomic: of two
 * waiters breaking it, one wins); if what was moved is not the lock
 * judged abandoned (a new holder took it in between), it is put back.
 */
async function breakLock(
  path: string,
  judged: LockHolder | undefined,
): Promise<void> {
  const aside = `${path}.broken-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readHolder(aside);
  if (moved?.token !== judged?.token) {
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
