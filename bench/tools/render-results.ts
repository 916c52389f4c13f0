/**
 * Rewrites the tables, charts and summary of a results directory from
 * its JSON files, without measuring anything again (after a change to how
 * results are drawn).
 *
 *   npx tsx bench/tools/render-results.ts [DIR]   (default bench/results)
 */
import { DEFAULT_RESULTS_DIR } from "../bench-options.js";
import { readResultFiles, writeSummary } from "../report/summary-table.js";
import { writeScenarioResults } from "../report/write-results.js";

async function main(dir: string): Promise<number> {
  const { results } = await readResultFiles(dir);
  for (const result of results) {
    const written = await writeScenarioResults(dir, result);
    process.stdout.write(`rendered ${written.markdown}, ${written.png}\n`);
  }
  for (const line of await writeSummary(dir)) {
    process.stderr.write(`skipped ${line}\n`);
  }
  return 0;
}

main(process.argv[2] ?? DEFAULT_RESULTS_DIR).then((code) => process.exit(code));
