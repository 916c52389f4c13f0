import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatJsonFiles } from "./format-json-files.js";
import { scenarioMarkdown } from "./markdown-table.js";
import { renderPng } from "./render-png.js";
import type { ResultFile } from "./result-file.js";
import { metricsChartSvg } from "./svg-chart.js";

/** The files one scenario's results were written to. */
export interface WrittenResults {
  json: string;
  markdown: string;
  svg: string;
  png: string;
}

/**
 * Writes bench/results/<scenario>.json (everything, raw samples
 * included), .md (the table), .svg and .png (the chart).
 */
export async function writeScenarioResults(
  dir: string,
  result: ResultFile,
): Promise<WrittenResults> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, result.scenario);
  const files: WrittenResults = {
    json: `${base}.json`,
    markdown: `${base}.md`,
    svg: `${base}.svg`,
    png: `${base}.png`,
  };
  await writeFile(files.json, `${JSON.stringify(result, jsonSafe, 2)}\n`);
  await formatJsonFiles([files.json]);
  await writeFile(files.markdown, scenarioMarkdown(result));
  const m = result.machine;
  const subtitle =
    `${result.date.slice(0, 16).replace("T", " ")} · ${m.cpuModel}, ` +
    `${m.cores} cores · Node ${m.node} · ${result.revision.commit.slice(0, 12)}` +
    `${result.harness.quick ? " · --quick (smoke sizes)" : ""}`;
  const svg = metricsChartSvg(result.title, subtitle, result.metrics);
  await writeFile(files.svg, svg);
  await writeFile(files.png, renderPng(svg));
  return files;
}

/** JSON has no NaN or Infinity: they are written as null. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  if (typeof value === "bigint") return Number(value);
  return value;
}
