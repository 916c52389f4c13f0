import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Where a plugin module comes from, as the operator named it. */
export interface PluginSource {
  /** What the operator wrote, or the directory entry: shown in reports. */
  origin: string;
  /** The module to `import()`. */
  url: string;
}

/** A `--plugins` entry or `--plugin` value that names no loadable module. */
export class PluginSourceError extends Error {
  override readonly name = "PluginSourceError";

  constructor(
    readonly origin: string,
    message: string,
  ) {
    super(`${origin}: ${message}`);
  }
}

/** File names a plugin module may have: compiled JS, or TS under tsx. */
const MODULE_EXTENSIONS = new Set([".js", ".mjs", ".cjs", ".ts", ".mts"]);

/**
 * Lists the plugin modules of a `--plugins` directory, in name order: each
 * module file (`.js`, `.mjs`, `.cjs`, `.ts`, `.mts`; not `.d.ts` or tests)
 * and each folder that is a package (has package.json) or has an index.
 * Other entries (READMEs, dot files) are skipped. Entries that cannot be
 * resolved are returned as errors, so one bad plugin does not hide the rest.
 */
export async function pluginsInDirectory(
  dir: string,
): Promise<(PluginSource | PluginSourceError)[]> {
  const root = resolve(dir);
  let names: string[];
  try {
    names = (await readdir(root)).sort();
  } catch (error) {
    throw new PluginSourceError(
      dir,
      `cannot read the directory: ${reason(error)}`,
    );
  }
  const found: (PluginSource | PluginSourceError)[] = [];
  for (const name of names) {
    if (name.startsWith(".") || name === "node_modules") continue;
    const path = join(root, name);
    const info = await stat(path);
    if (info.isDirectory()) {
      const entry = await folderEntry(path).catch((error: unknown) => error);
      if (entry instanceof PluginSourceError) found.push(entry);
      else if (typeof entry === "string") found.push(source(path, entry));
    } else if (isModuleFile(name)) {
      found.push(source(path, path));
    }
  }
  return found;
}

/**
 * Resolves one `--plugin` value: a path (absolute, or starting with "." or
 * containing a path separator) to a module file or package folder, or else
 * a package name resolved from `cwd` the way Node resolves `import`.
 */
export async function resolvePluginSpecifier(
  specifier: string,
  cwd: string = process.cwd(),
): Promise<PluginSource> {
  if (isPath(specifier)) {
    const path = resolve(cwd, specifier);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) {
      throw new PluginSourceError(specifier, "no such file or directory");
    }
    if (!info.isDirectory()) return source(specifier, path);
    const entry = await folderEntry(path);
    if (entry === undefined) {
      throw new PluginSourceError(
        specifier,
        "the folder has neither a package.json nor an index file",
      );
    }
    return source(specifier, entry);
  }
  return source(specifier, await resolvePackage(specifier, cwd));
}

function source(origin: string, path: string): PluginSource {
  return { origin, url: pathToFileURL(path).href };
}

function isModuleFile(name: string): boolean {
  if (name.endsWith(".d.ts") || /\.(test|spec)\.[cm]?[jt]s$/.test(name)) {
    return false;
  }
  return MODULE_EXTENSIONS.has(extname(name));
}

function isPath(specifier: string): boolean {
  return (
    specifier.startsWith(".") ||
    specifier.startsWith("/") ||
    specifier.includes("\\") ||
    (specifier.includes("/") && !specifier.startsWith("@"))
  );
}

/** The entry file of a plugin folder: its package's entry, or an index. */
async function folderEntry(folder: string): Promise<string | undefined> {
  const manifest = await readManifest(folder);
  if (manifest !== undefined) {
    const entry = packageEntry(manifest);
    if (entry === undefined) {
      throw new PluginSourceError(
        folder,
        'package.json names no entry ("exports" or "main") and has no index.js',
      );
    }
    return join(folder, entry);
  }
  for (const name of ["index.js", "index.mjs", "index.ts", "index.mts"]) {
    const path = join(folder, name);
    if (
      await stat(path).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

async function readManifest(
  folder: string,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, "package.json"), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      parsed !== null &&
      typeof parsed === "object" &&
      !Array.isArray(parsed)
    ) {
      return parsed as Record<string, unknown>;
    }
  } catch (error) {
    throw new PluginSourceError(folder, `package.json: ${reason(error)}`);
  }
  throw new PluginSourceError(folder, "package.json: must be a JSON object");
}

/**
 * The file a package's root export points at for `import`: `exports["."]`
 * (a string, or the `import`/`node`/`default` condition), else `main`,
 * else index.js.
 */
function packageEntry(manifest: Record<string, unknown>): string | undefined {
  const exported = rootExport(manifest.exports);
  if (exported !== undefined) return exported;
  if (typeof manifest.main === "string") return manifest.main;
  return "index.js";
}

function rootExport(exports: unknown): string | undefined {
  if (typeof exports === "string") return exports;
  if (exports === null || typeof exports !== "object") return undefined;
  const map = exports as Record<string, unknown>;
  const root = "." in map ? map["."] : map;
  if (typeof root === "string") return root;
  if (root === null || typeof root !== "object") return undefined;
  for (const condition of ["import", "node", "default"]) {
    const target = rootExport((root as Record<string, unknown>)[condition]);
    if (target !== undefined) return target;
  }
  return undefined;
}

/**
 * Finds an installed package the way Node does: in `node_modules` of
 * `cwd` and of each parent directory. Its entry follows package.json.
 */
async function resolvePackage(name: string, cwd: string): Promise<string> {
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) {
    throw new PluginSourceError(name, "is neither a path nor a package name");
  }
  let dir = resolve(cwd);
  for (;;) {
    const folder = join(dir, "node_modules", name);
    const isFolder = await stat(folder).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isFolder) {
      const entry = await folderEntry(folder);
      if (entry === undefined) {
        throw new PluginSourceError(name, "the package names no entry file");
      }
      return entry;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new PluginSourceError(
    name,
    `package not found in node_modules of ${cwd} or its parents`,
  );
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
