import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BIOME = fileURLToPath(
  new URL("../../node_modules/.bin/biome", import.meta.url),
);

/**
 * Formats written JSON files the way the repository's formatter would,
 * so that committed results pass `npm run check`. Does nothing when
 * Biome is not installed (results are valid JSON either way).
 */
export function formatJsonFiles(files: readonly string[]): Promise<void> {
  if (files.length === 0 || !existsSync(BIOME)) return Promise.resolve();
  return new Promise((resolve) => {
    execFile(BIOME, ["format", "--write", ...files], () => resolve());
  });
}
