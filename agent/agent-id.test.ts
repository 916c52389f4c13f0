import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadAgentId } from "./agent-id.js";

describe("loadAgentId", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-agent-id-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a UUID on first start and returns it ever after", async () => {
    const stateDir = join(dir, "nested", "state");
    const first = await loadAgentId(stateDir);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loadAgentId(stateDir)).toBe(first);
    const stored = await readFile(join(stateDir, "agent-id"), "utf8");
    expect(stored.trim()).toBe(first);
  });

  it("gives different state directories different ids", async () => {
    const a = await loadAgentId(join(dir, "a"));
    const b = await loadAgentId(join(dir, "b"));
    expect(a).not.toBe(b);
  });

  it("refuses a corrupt id file rather than replacing it", async () => {
    await writeFile(join(dir, "agent-id"), "not-an-id\n");
    await expect(loadAgentId(dir)).rejects.toThrow(/stateDir: .* UUID/);
  });
});
