import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The `deerflow` command of this checkout. */
export const DEERFLOW_BIN = fileURLToPath(
  new URL("../../bin/deerflow.js", import.meta.url),
);

/**
 * The node flags the command's `#!/usr/bin/env -S node FLAGS` line gives
 * it, so that the harness, which starts it with the running node, starts
 * it as a user's shell would.
 */
export function deerflowNodeFlags(bin = DEERFLOW_BIN): string[] {
  const first = readFileSync(bin, "utf8").split("\n", 1)[0] ?? "";
  return nodeFlagsOfShebang(first);
}

/** ["--max-semi-space-size=64"] of "#!/usr/bin/env -S node --max-…=64". */
export function nodeFlagsOfShebang(line: string): string[] {
  const match = /^#!\S*env(?:\s+-S)?\s+node(?<flags>(?:\s+\S+)*)\s*$/.exec(
    line,
  );
  if (!match) return [];
  return match.groups?.flags?.trim().split(/\s+/).filter(Boolean) ?? [];
}
