/**
 * `npm run bench [-- SCENARIO... [options]]`: runs the benchmark
 * scenarios of issue 6 against real processes and a real PostgreSQL, and
 * writes bench/results/. See bench/README.md.
 */
import { main, stopCurrentScenario } from "./bench-main.js";

/** Ctrl-C or SIGTERM: undo what the current scenario started, exit 130. */
function onInterrupt(): void {
  process.stderr.write("bench: interrupted; stopping what it started\n");
  void stopCurrentScenario().finally(() => process.exit(130));
}

process.once("SIGINT", onInterrupt);
process.once("SIGTERM", onInterrupt);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    await stopCurrentScenario();
    process.exit(2);
  },
);
