import { randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeDir } from "../core/index.js";

const FILE_NAME = "agent-id";
const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Returns the agent's id, stored in `<stateDir>/agent-id`. On first start
 * it creates a random UUID and saves it, so the control plane knows the
 * agent as the same one across restarts.
 */
export async function loadAgentId(stateDir: string): Promise<string> {
  const path = join(stateDir, FILE_NAME);
  const existing = await readExisting(path);
  if (existing !== undefined) return existing;
  await makeDir(stateDir, 0o700);
  const id = randomUUID();
  // Write then rename, so a crash never leaves a half-written id behind.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${id}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return id;
}

async function readExisting(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const id = text.trim();
  if (!UUID_PATTERN.test(id)) {
    throw new Error(
      `stateDir: ${path} does not hold a UUID; remove it to get a new id`,
    );
  }
  return id;
}
