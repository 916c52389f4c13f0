import { createRequire } from "node:module";

/** The installed version of a package, read from its package.json. */
export function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
