/**
 * The shell plugin's cases for the shared conformance suite. The long
 * run starts a background sleep, writes its own pid and the sleep's to
 * a file in a temporary directory, and waits; `stopped` holds once both
 * processes are gone.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConformanceCases } from "../../plugin-sdk/conformance.js";
import { isProcessAlive } from "../process/index.js";

/** Prepares the cases; `dispose` removes the temporary directory. */
export async function shellConformance(): Promise<{
  cases: ConformanceCases;
  dispose(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "deerflow-shell-conf-"));
  const pidFile = join(dir, "pids");
  const cases: ConformanceCases = {
    success: {
      config: { command: `echo hello; echo answer=42 >> "$DEERFLOW_OUTPUT"` },
      check(run) {
        if (run.output.exit_code !== 0) throw new Error("exit_code is not 0");
        if (run.output.answer !== 42) throw new Error("answer is not 42");
      },
    },
    failure: { config: { command: "echo failing >&2; exit 3" } },
    longRunning: {
      config: {
        command: `sleep 3600 & echo "$$ $!" > "$PIDS"; echo started; wait`,
        env: { PIDS: pidFile },
      },
      started: (line) => line.stream === "stdout" && line.message === "started",
      stopped: () => pidsGone(pidFile),
    },
    invalidConfigs: [
      { config: {}, field: "config.command" },
      { config: { command: "" }, field: "config.command" },
      { config: { command: "true", env: { A: 1 } }, field: "config.env.A" },
      {
        config: { command: "true", capture_output: "yes" },
        field: "config.capture_output",
      },
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
