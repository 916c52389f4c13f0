import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * An attempt's private directory, made the first time the plugin asks for
 * it: most tasks of a busy agent (no-ops, HTTP calls, SQL) never touch
 * their work dir, and two file-system calls per attempt add up when
 * thousands of attempts run a second.
 */
export class WorkDir {
  private made: string | undefined;
  private removed = false;

  constructor(private readonly root: string) {}

  /**
   * The directory's path; makes it on the first call. Throws once the
   * attempt has ended: a plugin that outlived its abort must not make a
   * directory that nothing would remove.
   */
  get path(): string {
    if (this.removed) {
      throw new Error(
        "ctx.workDir: the attempt has ended; its work dir is gone",
      );
    }
    this.made ??= mkdtempSync(join(this.root, "deerflow-attempt-"));
    return this.made;
  }

  /** Removes the directory and all in it, if it was ever made. */
  async remove(): Promise<void> {
    this.removed = true;
    if (this.made === undefined) return;
    await rm(this.made, { recursive: true, force: true });
  }
}
