import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Metric } from "../harness/metric.js";
import { formatValue } from "./format-value.js";
import { verdict } from "./markdown-table.js";
import { type ResultFile, resultFileProblems } from "./result-file.js";

/** The order scenarios appear in the summary; others follow by name. */
const ORDER = [
  "throughput",
  "latency",
  "chain",
  "wide-dag",
  "fleet",
  "failure",
  "peers",
];

/** Reads every results JSON file in `dir`; skips (and reports) bad ones. */
export async function readResultFiles(
  dir: string,
): Promise<{ results: ResultFile[]; skipped: string[] }> {
  const results: ResultFile[] = [];
  const skipped: string[] = [];
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  } catch {
    return { results, skipped };
  }
  for (const name of names) {
    try {
      const parsed: unknown = JSON.parse(
        await readFile(join(dir, name), "utf8"),
      );
      const problems = resultFileProblems(parsed);
      if (problems.length > 0) {
        skipped.push(`${name}: ${problems.join("; ")}`);
      } else {
        results.push(parsed as ResultFile);
      }
    } catch (error) {
      skipped.push(`${name}: ${(error as Error).message}`);
    }
  }
  const rank = (s: string) => {
    const i = ORDER.indexOf(s);
    return i < 0 ? ORDER.length : i;
  };
  results.sort(
    (a, b) =>
      rank(a.scenario) - rank(b.scenario) ||
      a.scenario.localeCompare(b.scenario),
  );
  return { results, skipped };
}

/** The metrics a summary shows: those with a target, else the first. */
function headline(result: ResultFile): Metric[] {
  const withTarget = result.metrics.filter((m) => m.target !== undefined);
  return withTarget.length > 0 ? withTarget : result.metrics.slice(0, 1);
}

/** README-table.md: the headline metric of every scenario, with targets. */
export function summaryMarkdown(results: readonly ResultFile[]): string {
  const lines = [
    "| scenario | metric | median | min – max | target | met | run (date, commit) |",
    "| --- | --- | ---: | ---: | --- | --- | --- |",
  ];
  for (const result of results) {
    for (const m of headline(result)) {
      const s = m.summary;
      const when =
        `${result.date.slice(0, 10)} ${result.revision.commit.slice(0, 7)}` +
        `${result.harness.quick ? " (quick)" : ""}`;
      lines.push(
        `| [${result.scenario}](${result.scenario}.md) | ${m.name}${m.note ? ` (${m.note})` : ""} | ` +
          `${formatValue(s.median)} ${m.unit} | ${formatValue(s.min)} – ${formatValue(s.max)} | ` +
          `${m.target?.text ?? ""} | ${verdict(m)} | ${when} |`,
      );
    }
  }
  const machines = new Set(
    results.map(
      (r) =>
        `${r.machine.cpuModel}, ${r.machine.cores} cores, ` +
        `${(r.machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ` +
        `Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}`,
    ),
  );
  lines.push("", `Machine: ${[...machines].join("; ") || "no results yet"}.`);
  return `${lines.join("\n")}\n`;
}

/** Rewrites README-table.md from every result file in `dir`. */
export async function writeSummary(dir: string): Promise<string[]> {
  const { results, skipped } = await readResultFiles(dir);
  await writeFile(join(dir, "README-table.md"), summaryMarkdown(results));
  return skipped;
}
