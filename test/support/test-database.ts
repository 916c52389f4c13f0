import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { inject } from "vitest";

/** Where a test's control plane keeps its state. */
export interface TestDatabase {
  /** A postgres:// URL, or undefined for PGlite. */
  url: string | undefined;
  /** PGlite's data directory (unused for PostgreSQL). */
  dataDir: string;
  drop(): Promise<void>;
}

export interface TestBackend {
  name: "pglite" | "postgres";
  create(): Promise<TestDatabase>;
}

/**
 * The storage backends every storage test runs on: PGlite always, and
 * PostgreSQL whenever TEST_DATABASE_URL is set (the global setup says
 * plainly when it is skipped).
 */
export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: "pglite", create: pgliteDatabase }];
  const url = inject("testDatabaseUrl");
  if (url)
    backends.push({ name: "postgres", create: () => postgresDatabase(url) });
  return backends;
}

async function pgliteDatabase(): Promise<TestDatabase> {
  const root = await mkdtemp(join(tmpdir(), "deerflow-test-"));
  const dataDir = join(root, "data");
  await cp(inject("pgliteTemplate"), dataDir, { recursive: true });
  return {
    url: undefined,
    dataDir,
    drop: () => rm(root, { recursive: true, force: true }),
  };
}

/** A fresh database on the server for one test, dropped afterwards. */
async function postgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `deerflow_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir: "",
    async drop() {
      const again = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await again.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.end();
      }
    },
  };
}
