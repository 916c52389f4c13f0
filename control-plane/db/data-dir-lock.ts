import { type DirLock, lockDir } from "../../core/index.js";
import { isProcessAlive } from "../../plugins/index.js";

/**
 * Takes a PGlite data directory for this process (see lockDir): a second
 * server or `deerflow dev` on it is refused, naming the holder's pid.
 */
export function lockDataDir(dataDir: string): Promise<DirLock> {
  return lockDir(dataDir, {
    label: "data dir",
    holder: "another deerflow server or dev?",
    isAlive: isProcessAlive,
  });
}
