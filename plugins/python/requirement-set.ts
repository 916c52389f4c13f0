import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { PythonConfigError } from "./python-config-error.js";

/** What a task asks pip to install, and the form its cache key is made of. */
export interface RequirementSet {
  /** The arguments that name the requirements to `pip install`. */
  pipArgs: string[];
  /**
   * The set in normal form: equal for sets that mean the same, however
   * they are spelled ("Requests >= 2" and "requests>=2").
   */
  normalized: string[];
}

/** The largest requirements file read. */
const MAX_FILE_BYTES = 1_048_576;

/** A project name at the start of a requirement (PEP 508). */
const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(.*)$/s;

/**
 * The requirement set of `config.requirements`: a list of requirement
 * strings (sorted and de-duplicated for the key: order does not matter
 * to pip's resolver), or the path of a requirements file (relative to
 * the agent's working directory; its lines keep their order, since
 * options such as `-c` may depend on it). Only the file's own text makes
 * the key: a change in a file it includes with `-r` is not seen.
 */
export async function loadRequirementSet(
  requirements: string[] | string,
): Promise<RequirementSet> {
  if (typeof requirements === "string") return loadFile(requirements);
  if (!Array.isArray(requirements) || requirements.length === 0) {
    throw new PythonConfigError(
      "config.requirements",
      "must be a non-empty list or a file path",
    );
  }
  const pipArgs = requirements.map((entry, i) => {
    const field = `config.requirements[${i}]`;
    if (typeof entry !== "string" || entry.trim() === "") {
      throw new PythonConfigError(field, "must be a non-empty string");
    }
    const text = entry.trim();
    if (text.startsWith("-")) {
      throw new PythonConfigError(
        field,
        "is a pip option, not a requirement (options belong in a " +
          "requirements file)",
      );
    }
    if (/[\r\n]/.test(text)) {
      throw new PythonConfigError(field, "must be one line");
    }
    return text;
  });
  const normalized = [...new Set(pipArgs.map(normalizeRequirement))].sort();
  return { pipArgs, normalized };
}

async function loadFile(path: string): Promise<RequirementSet> {
  const absolute = resolve(path);
  let text: string;
  try {
    const buffer = await readFile(absolute);
    if (buffer.byteLength > MAX_FILE_BYTES) {
      throw new PythonConfigError(
        "config.requirements",
        `the file ${absolute} is over ${MAX_FILE_BYTES} bytes`,
      );
    }
    text = buffer.toString("utf8");
  } catch (error) {
    if (error instanceof PythonConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new PythonConfigError(
      "config.requirements",
      `cannot read the requirements file ${absolute} (${code})`,
    );
  }
  return {
    pipArgs: ["-r", absolute],
    normalized: requirementLines(text).map(normalizeRequirement),
  };
}

/** The logical lines of a requirements file, without comments. */
export function requirementLines(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, "");
  const lines: string[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    // A comment starts a line or follows white space ("pkg  # why").
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line !== "") lines.push(line);
  }
  return lines;
}

/**
 * One requirement in normal form: the project name as PEP 503 normalizes
 * it, white space collapsed, and none around operators, so spellings
 * that mean the same give the same text. Anything that does not start
 * with a name (a path, a URL, an option) only has its white space
 * collapsed.
 */
export function normalizeRequirement(text: string): string {
  const collapsed = text.trim().replace(/\s+/g, " ");
  const match = NAME.exec(collapsed);
  if (match === null || /^[.~/]/.test(collapsed)) return collapsed;
  const name = (match[1] ?? "").toLowerCase().replace(/[-_.]+/g, "-");
  const rest = (match[2] ?? "").replace(/\s*([<>=!~,;[\]()@])\s*/g, "$1");
  return name + rest;
}
