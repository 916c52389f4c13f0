/**
 * The python plugin's cases for the shared conformance suite. The long
 * run writes its pid to a file in a temporary directory and sleeps;
 * `stopped` holds once that process is gone.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConformanceCases } from "../../plugin-sdk/conformance.js";
import { isProcessAlive } from "../process/index.js";

/** Prepares the cases; `dispose` removes the temporary directory. */
export async function pythonConformance(): Promise<{
  cases: ConformanceCases;
  dispose(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "deerflow-python-conf-"));
  const pidFile = join(dir, "pid");
  const cases: ConformanceCases = {
    success: {
      config: {
        code: "print('hello from python')\nresult = {'answer': 42}",
      },
      check(run) {
        const result = run.output.result as { answer?: number } | undefined;
        if (result?.answer !== 42) throw new Error("result.answer is not 42");
      },
    },
    failure: { config: { code: "raise RuntimeError('conformance failure')" } },
    longRunning: {
      config: {
        code: [
          "import os, time",
          `with open(${JSON.stringify(pidFile)}, 'w') as f:`,
          "    f.write(str(os.getpid()))",
          "print('started', flush=True)",
          "time.sleep(3600)",
        ].join("\n"),
      },
      started: (line) => line.stream === "stdout" && line.message === "started",
      stopped: () => pidsGone(pidFile),
    },
    invalidConfigs: [
      { config: { function: "main" }, field: "config.script" },
      {
        config: { code: "x = 1", python_version: "3" },
        field: "config.python_version",
      },
      {
        config: { code: "x = 1", requirements: [] },
        field: "config.requirements",
      },
      { config: { code: "x = 1", extra: true }, field: "config.extra" },
    ],
  };
  return {
    cases,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * True once no pid in the file is alive. A run stopped before it wrote
 * the file started nothing; the file is removed once confirmed, so the
 * next run's check never reads an old pid.
 */
async function pidsGone(pidFile: string): Promise<boolean> {
  const text = await readFile(pidFile, "utf8").catch(() => "");
  for (const pid of text.split(/\s+/).filter(Boolean).map(Number)) {
    if (await isProcessAlive(pid)) return false;
  }
  await rm(pidFile, { force: true });
  return true;
}
