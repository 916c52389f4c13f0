import type { Metric } from "../harness/metric.js";
import { formatValue } from "./format-value.js";
import type { ResultFile } from "./result-file.js";

/** A cell must not break the table. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** The "meets target" cell: yes, NO, or blank without a target. */
export function verdict(metric: Metric): string {
  if (metric.target === undefined) return "";
  if (metric.met === undefined) return "n/a";
  return metric.met ? "yes" : "**NO**";
}

/** One row per metric: median, spread, target. */
export function metricsTable(metrics: readonly Metric[]): string {
  const rows = [
    "| metric | unit | median | min – max | IQR (p25 – p75) | n | target | met |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const m of metrics) {
    const s = m.summary;
    const name = m.note ? `${m.name} (${m.note})` : m.name;
    rows.push(
      `| ${cell(name)} | ${cell(m.unit)} | ${formatValue(s.median)} | ` +
        `${formatValue(s.min)} – ${formatValue(s.max)} | ` +
        `${formatValue(s.p25)} – ${formatValue(s.p75)} | ${s.n} | ` +
        `${cell(m.target?.text ?? "")} | ${verdict(m)} |`,
    );
  }
  return rows.join("\n");
}

/** bench/results/<scenario>.md: the scenario, its table and its notes. */
export function scenarioMarkdown(result: ResultFile): string {
  const m = result.machine;
  const lines = [
    `# ${result.title}`,
    "",
    result.description,
    "",
    `Ran ${result.date} on ${m.cpuModel} (${m.cores} cores, ` +
      `${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB), Node ${m.node}, ` +
      `PostgreSQL ${m.postgres}${m.pglite ? `, PGlite ${m.pglite}` : ""}` +
      `${m.redis ? `, Redis ${m.redis}` : ""}; commit ` +
      `${result.revision.commit.slice(0, 12)}` +
      `${result.revision.dirty ? " (with uncommitted changes)" : ""}.`,
    `Harness: ${result.harness.repeat} repetition(s) after ` +
      `${result.harness.warmup} warm-up(s)${result.harness.quick ? ", --quick (smoke sizes, not representative)" : ""}; ` +
      `\`${result.harness.command}\`.`,
    "",
    `Parameters: \`${JSON.stringify(result.parameters)}\``,
    "",
    metricsTable(result.metrics),
    "",
    `![${result.scenario}](${result.scenario}.png)`,
  ];
  if (result.notes.length > 0) {
    lines.push("", "Notes:", "", ...result.notes.map((n) => `- ${n}`));
  }
  return `${lines.join("\n")}\n`;
}
