import { readFile } from "node:fs/promises";
import { UsageError } from "./key-value.js";

/** Plain words for the errors a person can fix, by errno code. */
const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  ENOTDIR: "a part of the path is not a directory",
};

/**
 * Reads a workflow definition file. A file that cannot be read is a
 * UsageError that names the file and says why in words, not errno codes.
 */
export async function readDefinitionFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why = (code && READ_ERRORS[code]) ?? message;
    throw new UsageError(`cannot read ${file}: ${why}`);
  }
}
