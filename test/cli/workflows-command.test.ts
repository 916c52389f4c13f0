import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { runCli } from "../support/run-cli.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/** A definition whose task reports its param, in YAML. */
function flow(greeting: string): string {
  return [
    "name: cli-flow",
    `params: { who: world, greeting: ${greeting} }`,
    "tasks:",
    "  - id: greet",
    "    type: shell",
    '    command: echo "said=${params.greeting} ${params.who}" >> "$DEERFLOW_OUTPUT"',
  ].join("\n");
}

/**
 * The CLI is the same over either database, and every command here is a
 * process of its own, so this runs on PGlite alone as the other CLI tests
 * do; the API tests cover both databases.
 */
const [pglite] = testBackends();

/** Each CLI call starts Node and tsx: slow on two shared, busy cores. */
const SLOW_MS = 300_000;

describe("deerflow workflows and run NAME against a server", () => {
  let cp: TestControlPlane;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
    env = { DEERFLOW_SERVER: cp.url };
    dir = await mkdtemp(join(tmpdir(), "deerflow-workflows-cli-"));
    await spawnAgent({ serverUrl: cp.url, name: "wf-agent" });
    await waitForAgents(cp.clients, ["wf-agent"], SLOW_MS);
  }, SLOW_MS);

  afterAll(async () => {
    await stopAllAgents();
    await cp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  async function cli(args: string[]) {
    const result = await runCli(args, env);
    return { ...result, json: () => JSON.parse(result.stdout) };
  }

  it(
    "register says whether a definition is new, unchanged or changed",
    async () => {
      const path = await file("flow.yaml", flow("hello"));
      const first = await cli(["workflows", "register", path]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toBe(
        "cli-flow version 1: registered (new workflow)\n",
      );
      const same = await cli(["workflows", "register", path]);
      expect(same.stdout).toBe(
        "cli-flow version 1: unchanged (same definition as the latest)\n",
      );
      await writeFile(path, flow("hi"));
      const changed = await cli(["workflows", "register", path, "--json"]);
      expect(changed.code).toBe(0);
      expect(changed.json()).toMatchObject({
        name: "cli-flow",
        version: 2,
        created: true,
      });
    },
    SLOW_MS,
  );

  it(
    "register of an invalid file exits 1 and lists every problem",
    async () => {
      const path = await file(
        "invalid.yaml",
        "name: cli-bad\ntasks:\n  - { id: a, type: nosuch }\n  - { id: b, type: shell, command: x, depends_on: [zz] }\n",
      );
      const result = await cli(["workflows", "register", path]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/task a: type: .*nosuch/);
      expect(result.stderr).toMatch(/task b: depends_on\[0\]: .*zz/);
    },
    SLOW_MS,
  );

  it(
    "ls shows the latest version of each workflow and every version of one",
    async () => {
      const table = await cli(["workflows", "ls"]);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^NAME\s+VERSION\s+VERSIONS\s+DIGEST/);
      expect(table.stdout).toMatch(/^cli-flow\s+2\s+2\s+[0-9a-f]{12}\s/m);
      const versions = await cli(["workflows", "ls", "cli-flow", "--json"]);
      expect(versions.code).toBe(0);
      expect(
        versions.json().map((w: { version: number }) => w.version),
      ).toEqual([2, 1]);
      const missing = await cli(["workflows", "ls", "no-such-flow"]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("workflow no-such-flow not found");
    },
    SLOW_MS,
  );

  it(
    "get prints a version's definition as YAML or JSON",
    async () => {
      const latest = await cli(["workflows", "get", "cli-flow"]);
      expect(latest.code, latest.stderr).toBe(0);
      expect(latest.stdout).toMatch(/^# cli-flow version 2 of 2, digest /);
      expect(parse(latest.stdout).params).toEqual({
        who: "world",
        greeting: "hi",
      });
      const v1 = await cli(["workflows", "get", "cli-flow", "--version", "1"]);
      expect(v1.code, v1.stderr).toBe(0);
      expect(parse(v1.stdout).params.greeting).toBe("hello");
      const v1json = await cli(["workflows", "get", "cli-flow@1", "--json"]);
      expect(v1json.json()).toEqual(parse(v1.stdout));
      const both = await cli([
        "workflows",
        "get",
        "cli-flow@1",
        "--version",
        "1",
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain("--version:");
      const none = await cli([
        "workflows",
        "get",
        "cli-flow",
        "--version",
        "9",
      ]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("workflow cli-flow version 9 not found");
    },
    SLOW_MS,
  );

  it(
    "a definition printed by get registers as unchanged",
    async () => {
      const got = await cli(["workflows", "get", "cli-flow", "--json"]);
      const path = await file("round-trip.json", got.stdout);
      const again = await cli(["workflows", "register", path]);
      expect(again.stdout).toBe(
        "cli-flow version 2: unchanged (same definition as the latest)\n",
      );
    },
    SLOW_MS,
  );

  it(
    "run NAME --wait runs the latest version; NAME@VERSION a pinned one",
    async () => {
      const latest = await cli([
        "run",
        "cli-flow",
        "--param",
        "who=deer",
        "--wait",
        "--json",
      ]);
      expect(latest.code, latest.stderr).toBe(0);
      expect(latest.json()).toMatchObject({
        workflow_name: "cli-flow",
        workflow_version: 2,
        state: "SUCCESS",
      });
      expect(latest.json().tasks[0].output.said).toBe("hi deer");
      const pinned = await cli(["run", "cli-flow@1", "--wait", "--json"]);
      expect(pinned.code, pinned.stderr).toBe(0);
      expect(pinned.json()).toMatchObject({
        workflow_version: 1,
        state: "SUCCESS",
      });
      expect(pinned.json().tasks[0].output.said).toBe("hello world");
    },
    SLOW_MS,
  );

  it(
    "run of an unknown name or malformed version exits 2 naming it",
    async () => {
      const unknown = await cli(["run", "no-such-flow", "--wait"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("workflow no-such-flow not found");
      const malformed = await cli(["run", "cli-flow@latest"]);
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain('"cli-flow@latest": expected NAME');
      const help = await cli(["run", "--help"]);
      expect(help.stdout).toContain("NAME@VERSION");
    },
    SLOW_MS,
  );
});
