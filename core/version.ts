import { createRequire } from "node:module";

/** The package's version, reported by servers and agents. */
export const VERSION: string = (
  createRequire(import.meta.url)("../package.json") as { version: string }
).version;
