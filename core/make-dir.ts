import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Creates a directory and its missing parents, one level at a time.
 *
 * Node 20's `mkdir(path, { recursive: true })` never returns for a path
 * under a file system that answers every create with ENOENT (`/proc/x`):
 * it makes the parent, which exists, and tries again, for ever. Here each
 * level is tried once after its parent was made, so every path ends in a
 * directory or an error.
 */
export async function makeDir(path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, { mode });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      if ((await stat(path)).isDirectory()) return;
      throw error;
    }
    const parent = dirname(path);
    if (code !== "ENOENT" || parent === path) throw error;
    await makeDir(parent, mode);
  }
  // The parent exists now; a second ENOENT is this file system's answer.
  await mkdir(path, { mode }).catch(async (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && (await stat(path)).isDirectory()) return;
    throw error;
  });
}
