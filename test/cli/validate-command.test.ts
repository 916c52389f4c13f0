import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

/** Each CLI call starts Node and tsx: slow on two shared, busy cores. */
const SLOW_MS = 120_000;

describe("deerflow validate offline: problems naming task and field", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-validate-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function validate(name: string, text: string) {
    const path = join(dir, name);
    await writeFile(path, text);
    const result = await runCli(["validate", path]);
    return { ...result, lines: result.stdout.split("\n").slice(1, -1) };
  }

  it(
    "refuses a NUL in an env value, which no process environment holds",
    async () => {
      const result = await validate(
        "nul.yaml",
        [
          "name: v",
          "tasks:",
          '  - { id: a, type: shell, command: "true", env: { X: "a\\0b" } }',
          "",
        ].join("\n"),
      );
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        "  tasks[0].env.X: holds a NUL character (\\u0000), which cannot be stored",
      ]);
    },
    SLOW_MS,
  );

  it(
    "refuses a for_each list past the limit a run expands",
    async () => {
      const items = Array.from({ length: 10_001 }, (_, i) => i);
      const result = await validate(
        "many.json",
        JSON.stringify({
          name: "v",
          tasks: [
            {
              id: "a",
              type: "shell",
              command: "echo ${item}",
              for_each: items,
            },
          ],
        }),
      );
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        "  task a: for_each: 10001 items exceed the limit of 10000",
      ]);
    },
    SLOW_MS,
  );

  it(
    "says why resources refuse a template or a huge amount, and takes a GPU as Kubernetes does",
    async () => {
      const result = await validate(
        "resources.yaml",
        [
          "name: v",
          "params: { m: 1Gi }",
          "tasks:",
          "  - id: a",
          "    type: shell",
          '    command: "true"',
          '    resources: { cpu: "1e400", memory: "${params.m}" }',
          "  - id: b",
          "    type: shell",
          '    command: "true"',
          '    resources: { gpu: { type: 4090, count: "2" } }',
          "",
        ].join("\n"),
      );
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        '  task a: resources.cpu: "1e400" is too large to schedule',
        "  task a: resources.memory: templates are not rendered in resources, which are read when the run starts to match the task to agents; write the value itself",
      ]);
    },
    SLOW_MS,
  );

  it(
    "says so when --server took the file's name as its URL",
    async () => {
      const path = join(dir, "flow.yaml");
      await writeFile(path, "name: v\ntasks: []\n");
      const result = await runCli(["validate", "--server", path]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `validate: no file given; --server took "${path}" as its URL. ` +
          `Put the file first: deerflow validate ${path} --server`,
      );
    },
    SLOW_MS,
  );
});
