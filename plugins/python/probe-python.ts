import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { delimiter } from "node:path";
import type { Labels } from "../../plugin-sdk/index.js";

const VERSION_SCRIPT = "import sys; print('%d.%d' % sys.version_info[:2])";
const VERSIONED_NAME = /^python(3\.\d+)$/;
/** A slow interpreter start (cold disk) must not hang the agent's probe. */
const PROBE_TIMEOUT_MS = 15_000;

/**
 * Labels for the python task type: `python`, the version of the default
 * interpreter (`python3`); `python_versions`, every python3.N on PATH
 * that runs and reports being 3.N, in order ("3.11,3.12"); and for each
 * of those one label `python3.N: "true"`, which node selectors match. Each candidate
 * is run, because version managers such as pyenv put shims on PATH for
 * versions that are not active. A label is left out when nothing is found.
 */
export async function probePython(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Labels> {
  const names = await versionedNames(env.PATH ?? "");
  const [main, ...found] = await Promise.all([
    interpreterVersion("python3", env),
    ...names.map(async (name) => {
      const version = await interpreterVersion(name, env);
      return version === VERSIONED_NAME.exec(name)?.[1] ? version : undefined;
    }),
  ]);
  const labels: Labels = {};
  if (main !== undefined) labels.python = main;
  const versions = found.filter((v): v is string => v !== undefined);
  if (versions.length > 0) {
    versions.sort((a, b) => minor(a) - minor(b));
    labels.python_versions = versions.join(",");
  }
  for (const version of versions) labels[pythonVersionLabel(version)] = "true";
  return labels;
}

/**
 * The label an agent carries for each python3.N it can run: `python3.11`
 * with the value "true". A task's `python_version` becomes a node
 * selector on it, so a version no agent has leaves the task with no
 * matching agent, which `deerflow explain` names.
 */
export function pythonVersionLabel(version: string): string {
  return `python${version}`;
}

/** Distinct `python3.N` names in the PATH directories. */
async function versionedNames(path: string): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) {
      if (VERSIONED_NAME.test(entry)) names.add(entry);
    }
  }
  return [...names];
}

/** "3.11" for an interpreter that runs, else undefined. */
function interpreterVersion(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      file,
      ["-c", VERSION_SCRIPT],
      { env, timeout: PROBE_TIMEOUT_MS },
      (error, stdout) => {
        const version = stdout.trim();
        resolve(!error && /^\d+\.\d+$/.test(version) ? version : undefined);
      },
    );
  });
}

function minor(version: string): number {
  return Number(version.split(".")[1]);
}
