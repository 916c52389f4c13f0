import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const [pglite] = testBackends();

describe("deerflow run, runs and validate against a server", () => {
  let cp: TestControlPlane;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
    env = { DEERFLOW_SERVER: cp.url };
    dir = await mkdtemp(join(tmpdir(), "deerflow-cli-"));
    await spawnAgent({ serverUrl: cp.url, name: "cli-agent" });
    await waitForAgents(cp.clients, ["cli-agent"]);
  });

  afterAll(async () => {
    await stopAllAgents();
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it("--wait --json prints only the finished run on stdout and exits 0", async () => {
    const path = await file(
      "ok.yaml",
      [
        "name: cli-ok",
        "params: { who: nobody }",
        "tasks:",
        "  - id: greet",
        "    type: shell",
        '    command: echo "who=$(echo ${params.who})" >> "$DEERFLOW_OUTPUT"',
      ].join("\n"),
    );
    const result = await runCli(
      ["run", path, "--param", "who=it's me", "--wait", "--json"],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout);
    expect(run.state).toBe("SUCCESS");
    expect(run.params).toEqual({ who: "it's me" });
    const [task] = run.tasks;
    expect(task).toMatchObject({
      id: "greet",
      state: "SUCCESS",
      agent_name: "cli-agent",
    });
    expect(task.output.who).toBe("it's me");
    expect(task.attempts[0]).toMatchObject({
      number: 1,
      outcome: "SUCCESS",
      agent_name: "cli-agent",
    });
    // Progress went to stderr.
    expect(result.stderr).toMatch(/greet\s+SUCCESS/);

    const got = await runCli(["runs", "get", run.id, "--json"], env);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      id: run.id,
      state: "SUCCESS",
    });
    const listed = await runCli(["runs", "ls"], env);
    expect(listed.stdout).toContain(run.id);
  });

  it("--wait exits 1 when the run fails, and shows the failed task", async () => {
    const path = await file(
      "bad.json",
      JSON.stringify({
        name: "cli-bad",
        tasks: [{ id: "nope", type: "shell", command: "exit 4" }],
      }),
    );
    const result = await runCli(["run", path, "--wait"], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/nope\s+FAILED/);
  });

  it("without --wait prints the run id", async () => {
    const path = await file(
      "id.yaml",
      "name: cli-id\ntasks:\n  - { id: a, type: shell, command: 'true' }\n",
    );
    const result = await runCli(["run", path], env);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("says on stderr when an idempotency key named an earlier run", async () => {
    const path = await file(
      "idem.yaml",
      "name: cli-idem\ntasks:\n  - { id: a, type: shell, command: 'true' }\n",
    );
    const args = ["run", path, "--idempotency-key", "cli-k"];
    const first = await runCli(args, env);
    expect(first.code).toBe(0);
    expect(first.stderr).not.toContain("not started again");
    const again = await runCli(args, env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr).toContain(
      `run ${first.stdout.trim()} was started earlier with idempotency key "cli-k"; not started again`,
    );
  });

  it("a definition the server refuses exits 1 and lists every problem", async () => {
    const path = await file(
      "invalid.yaml",
      "name: cli-invalid\ntasks:\n  - { id: a, type: nosuch }\n  - { id: a, type: shell, command: x, depends_on: [zz] }\n",
    );
    const result = await runCli(["run", path, "--wait"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nosuch/);
    expect(result.stderr).toMatch(/zz/);
    expect(result.stderr).toMatch(/duplicate/i);
  });

  it("a malformed run id is the caller's mistake: exit 2, not 1", async () => {
    const result = await runCli(["runs", "get", "does-not-exist"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('run_id: "does-not-exist"');
  });

  it("validate lists every problem offline and exits 1, or 0 when valid", async () => {
    const bad = await file(
      "cycle.yaml",
      "name: v\ntasks:\n  - { id: a, type: shell, command: x, depends_on: [b] }\n  - { id: b, type: shell, command: x, depends_on: [a] }\n  - { id: c, type: warp }\n",
    );
    const invalid = await runCli(["validate", bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/cycle/);
    expect(invalid.stdout).toMatch(/task c: type:.*warp/);
    const valid = await runCli(["validate", "examples/quick-start.yaml"]);
    expect(valid.code).toBe(0);
  });

  it("says where it looked when no server answers, and exits 2", async () => {
    const result = await runCli([
      "runs",
      "ls",
      "--server",
      "http://127.0.0.1:9",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "cannot reach the control plane at http://127.0.0.1:9",
    );
  });

  it("a bad flag names the flag", async () => {
    const result = await runCli(["run", "x.yaml", "--param", "novalue"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--param: expected KEY=VALUE");
  });
});
