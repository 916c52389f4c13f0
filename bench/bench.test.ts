import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, inject, it } from "vitest";
import { resultFileProblems } from "./report/result-file.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Runs `npm run bench` for real (a control-plane process, agent
 * processes over gRPC) at its smallest sizes, and checks what it wrote.
 * Never asserts a time: only that the files exist and are well-formed.
 * On PostgreSQL when TEST_DATABASE_URL is set (the harness makes and
 * drops its own database there), else on PGlite.
 */
describe("npm run bench, smallest mode", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes JSON, a table, a chart and the summary for throughput and wide-dag", async () => {
    const results = await mkdtemp(join(tmpdir(), "deerflow-bench-test-"));
    dirs.push(results);
    const url = inject("testDatabaseUrl");
    const backend = url ? ["--database-url", url] : ["--pglite"];
    const args = [
      "--import",
      "tsx",
      "bench/run.ts",
      "throughput",
      "wide-dag",
      "--quick",
      "--tasks",
      "50",
      "--wide-tasks",
      "20",
      "--repeat",
      "2",
      "--warmup",
      "0",
      "--agents",
      "2",
      "--slots",
      "2",
      "--results-dir",
      results,
      "--quiet",
      ...backend,
    ];
    const { stdout } = await run(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: "" },
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toMatch(/^CPU: /m);
    expect(stdout).toMatch(/^Node: +v\d+/m);

    for (const scenario of ["throughput", "wide-dag"]) {
      const json = JSON.parse(
        await readFile(join(results, `${scenario}.json`), "utf8"),
      );
      expect(resultFileProblems(json), scenario).toEqual([]);
      expect(json.scenario).toBe(scenario);
      expect(json.machine.cores).toBeGreaterThan(0);
      expect(json.revision.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
      for (const m of json.metrics) {
        expect(m.samples, m.name).toHaveLength(2);
        expect(m.summary.n, m.name).toBe(2);
        expect(m.summary.min).toBeLessThanOrEqual(m.summary.median);
        expect(m.summary.median).toBeLessThanOrEqual(m.summary.max);
      }
      const table = await readFile(join(results, `${scenario}.md`), "utf8");
      expect(table).toContain("| metric | unit | median |");
      const png = await readFile(join(results, `${scenario}.png`));
      expect(png.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    }
    const throughput = JSON.parse(
      await readFile(join(results, "throughput.json"), "utf8"),
    );
    const rate = throughput.metrics.find(
      (m: { name: string }) => m.name === "throughput, N=50",
    );
    expect(rate.target).toMatchObject({ op: ">=", value: 5000 });
    expect(rate.samples.every((v: number) => v > 0)).toBe(true);
    expect(throughput.raw.samples).toHaveLength(2);
    expect(throughput.raw.samples[0]).toMatchObject({
      tasks: 50,
      state: "SUCCESS",
      timedOut: false,
    });

    const summary = await readFile(join(results, "README-table.md"), "utf8");
    expect(summary).toContain("[throughput](throughput.md)");
    expect(summary).toContain("[wide-dag](wide-dag.md)");
  }, 600_000);

  it("refuses a bad option, naming it, with exit code 2", async () => {
    const failure = await run(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "throughput", "--repeat", "zero"],
      { cwd: ROOT },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain(
      '--repeat: must be a whole number, got "zero"',
    );
  });
});
