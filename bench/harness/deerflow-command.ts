import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The `deerflow` command of this checkout. */
export const DEERFLOW_BIN = fileURLToPath(
  new URL("../../bin/deerflow.js", import.meta.url),
);

const PACKAGE_JSON = fileURLToPath(
  new URL("../../package.json", import.meta.url),
);

/**
 * The node flags `npm run deerflow` starts the command with (its script
 * is `node FLAGS bin/deerflow.js`), so that the harness, which starts it
 * with the running node, starts it as users are told to.
 */
export function deerflowNodeFlags(script = "deerflow"): string[] {
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as {
    scripts?: Record<string, string>;
  };
  return nodeFlagsOfScript(pkg.scripts?.[script] ?? "");
}

/** ["--max-semi-space-size=64"] of "node --max-semi-space-size=64 bin/deerflow.js". */
export function nodeFlagsOfScript(script: string): string[] {
  const match = /^node((?:\s+--\S+)*)\s+bin\/deerflow\.js(?:\s|$)/.exec(
    script.trim(),
  );
  if (!match) return [];
  return match[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}
