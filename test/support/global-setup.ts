import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../control-plane/db/index.js";
import { silentLogger } from "../../core/index.js";

const MIGRATIONS = new URL(
  "../../control-plane/db/migrations/",
  import.meta.url,
);

/**
 * Makes one migrated PGlite data directory per migration set, which each
 * test copies instead of creating its own (creation takes seconds, a copy
 * milliseconds), and says plainly whether the PostgreSQL suite runs.
 */
export default async function setup(project: TestProject): Promise<void> {
  const template = await pgliteTemplate();
  project.provide("pgliteTemplate", template);
  const url = process.env.TEST_DATABASE_URL;
  project.provide("testDatabaseUrl", url ?? "");
  process.stderr.write(
    url
      ? `PostgreSQL suite: on (${url.replace(/:[^:@/]*@/, ":***@")})\n`
      : "PostgreSQL suite: SKIPPED (TEST_DATABASE_URL is not set); PGlite only\n",
  );
}

async function pgliteTemplate(): Promise<string> {
  const hash = createHash("sha256");
  for (const name of (await readdir(MIGRATIONS)).sort()) {
    if (name.endsWith(".sql"))
      hash.update(await readFile(new URL(name, MIGRATIONS)));
  }
  const dir = join(
    tmpdir(),
    `deerflow-pglite-template-${hash.digest("hex").slice(0, 12)}`,
  );
  if (existsSync(join(dir, "READY"))) return join(dir, "data");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const database = await openDatabase({
    dataDir: join(dir, "data"),
    logger: silentLogger(),
  });
  await database.close();
  await mkdir(join(dir, "READY"));
  return join(dir, "data");
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
    testDatabaseUrl: string;
  }
}
