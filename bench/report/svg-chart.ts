import type { Metric } from "../harness/metric.js";
import { formatValue } from "./format-value.js";

/** Layout of the chart, in SVG pixels. */
const WIDTH = 960;
const LABEL_WIDTH = 340;
const BAR_WIDTH = 450;
const ROW_HEIGHT = 30;
const PANEL_GAP = 18;
const FONT = "DejaVu Sans, sans-serif";
const LABEL_CHARS = 52;

const COLORS = {
  met: "#2e7d32",
  missed: "#c62828",
  plain: "#1565c0",
  whisker: "#333333",
  target: "#e65100",
  grid: "#dddddd",
  text: "#222222",
  muted: "#666666",
};

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function truncate(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

/** Metrics grouped by unit, in first-seen order: one panel per unit. */
function panels(metrics: readonly Metric[]): [string, Metric[]][] {
  const byUnit = new Map<string, Metric[]>();
  for (const m of metrics) {
    const list = byUnit.get(m.unit) ?? [];
    list.push(m);
    byUnit.set(m.unit, list);
  }
  return [...byUnit.entries()];
}

function scaleMax(metrics: readonly Metric[]): number {
  const values = metrics.flatMap((m) => [
    m.summary.max,
    m.summary.median,
    m.target?.value ?? 0,
  ]);
  const max = Math.max(0, ...values.filter(Number.isFinite));
  return max > 0 ? max * 1.08 : 1;
}

function row(m: Metric, y: number, max: number): string {
  const x0 = LABEL_WIDTH;
  const at = (v: number) => x0 + (Math.max(0, v) / max) * BAR_WIDTH;
  const color =
    m.met === undefined ? COLORS.plain : m.met ? COLORS.met : COLORS.missed;
  const s = m.summary;
  const mid = y + 10 + (ROW_HEIGHT - 14) / 2;
  const parts = [
    `<text x="${x0 - 8}" y="${mid + 4}" text-anchor="end" font-size="12" fill="${COLORS.text}">${escapeXml(truncate(m.name, LABEL_CHARS))}</text>`,
  ];
  if (Number.isFinite(s.median)) {
    parts.push(
      `<rect x="${x0}" y="${y + 10}" width="${Math.max(1, at(s.median) - x0).toFixed(1)}" height="${ROW_HEIGHT - 14}" fill="${color}" opacity="0.85"/>`,
    );
  }
  if (Number.isFinite(s.min) && Number.isFinite(s.max) && s.n > 1) {
    parts.push(
      `<line x1="${at(s.min).toFixed(1)}" y1="${mid}" x2="${at(s.max).toFixed(1)}" y2="${mid}" stroke="${COLORS.whisker}" stroke-width="1.5"/>`,
      `<line x1="${at(s.min).toFixed(1)}" y1="${mid - 5}" x2="${at(s.min).toFixed(1)}" y2="${mid + 5}" stroke="${COLORS.whisker}" stroke-width="1.5"/>`,
      `<line x1="${at(s.max).toFixed(1)}" y1="${mid - 5}" x2="${at(s.max).toFixed(1)}" y2="${mid + 5}" stroke="${COLORS.whisker}" stroke-width="1.5"/>`,
    );
  }
  if (m.target) {
    const tx = at(m.target.value).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${y + 9}" x2="${tx}" y2="${y + ROW_HEIGHT - 3}" stroke="${COLORS.target}" stroke-width="2" stroke-dasharray="3,2"/>`,
      `<text x="${tx}" y="${y + 8}" text-anchor="middle" font-size="9" fill="${COLORS.target}">target ${escapeXml(formatValue(m.target.value))}</text>`,
    );
  }
  const shown = Number.isFinite(s.median)
    ? `${formatValue(s.median)} ${m.unit.split(" ")[0]}`
    : "n/a";
  parts.push(
    `<text x="${x0 + BAR_WIDTH + 10}" y="${mid + 4}" font-size="12" fill="${COLORS.text}">${escapeXml(shown)}</text>`,
  );
  return parts.join("\n");
}

/**
 * A horizontal bar chart of a scenario's metrics: one panel per unit,
 * each bar the median, the whisker min to max, a dashed orange mark the
 * target; green bars meet their target, red ones miss it.
 */
export function metricsChartSvg(
  title: string,
  subtitle: string,
  metrics: readonly Metric[],
): string {
  const body: string[] = [];
  let y = 58;
  for (const [unit, list] of panels(metrics)) {
    const max = scaleMax(list);
    body.push(
      `<text x="${LABEL_WIDTH}" y="${y + 12}" font-size="12" font-weight="bold" fill="${COLORS.muted}">${escapeXml(unit)} (0 – ${escapeXml(formatValue(max))})</text>`,
    );
    y += 18;
    const top = y;
    for (const m of list) {
      body.push(row(m, y, max));
      y += ROW_HEIGHT;
    }
    body.push(
      `<line x1="${LABEL_WIDTH}" y1="${top}" x2="${LABEL_WIDTH}" y2="${y}" stroke="${COLORS.grid}" stroke-width="1"/>`,
    );
    y += PANEL_GAP;
  }
  const legendY = y + 4;
  body.push(
    `<text x="16" y="${legendY + 10}" font-size="11" fill="${COLORS.muted}">bar: median · whisker: min–max over repetitions · dashed: target · green meets it, red misses it</text>`,
  );
  const height = legendY + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="17" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`,
    `<text x="16" y="46" font-size="11" fill="${COLORS.muted}">${escapeXml(subtitle)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
