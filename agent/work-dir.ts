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

  constructor(private readonly root: string) {}

  /** The directory's path; makes it on the first call. */
  get path(): string {
    this.made ??= mkdtempSync(join(this.root, "deerflow-attempt-"));
    return this.made;
  }

  /** Removes the directory and all in it, if it was ever made. */
  async remove(): Promise<void> {
    if (this.made === undefined) return;
    await rm(this.made, { recursive: true, force: true });
  }
}
