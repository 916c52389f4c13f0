import { describe, expect, it } from "vitest";
import { metric } from "../harness/metric.js";
import { formatValue } from "./format-value.js";
import { metricsTable } from "./markdown-table.js";
import { renderPng } from "./render-png.js";
import { resultFileProblems } from "./result-file.js";
import { metricsChartSvg } from "./svg-chart.js";

const met = metric({
  name: "throughput, N=10",
  unit: "tasks/s",
  better: "higher",
  samples: [6000, 5500, 7000],
  target: { op: ">=", value: 5000, text: "at least 5,000 tasks/s" },
});
const missed = metric({
  name: "p99 <latency> & more",
  unit: "ms",
  better: "lower",
  samples: [30, 40],
  target: { op: "<=", value: 25, text: "under 25 ms" },
});
const empty = metric({
  name: "never measured",
  unit: "ms",
  better: "lower",
  samples: [],
});

describe("reports", () => {
  it("judge targets on the median", () => {
    expect(met.met).toBe(true);
    expect(missed.met).toBe(false);
    expect(empty.met).toBeUndefined();
    expect(empty.summary.median).toBeNaN();
  });

  it("format values for people", () => {
    expect(formatValue(12345.6)).toBe("12,346");
    expect(formatValue(123.4)).toBe("123");
    expect(formatValue(12.34)).toBe("12.3");
    expect(formatValue(1.234)).toBe("1.23");
    expect(formatValue(0.01234)).toBe("0.012");
    expect(formatValue(Number.NaN)).toBe("n/a");
  });

  it("tabulate every metric with its verdict", () => {
    const table = metricsTable([met, missed, empty]);
    expect(table).toContain(
      "| throughput, N=10 | tasks/s | 6,000 | 5,500 – 7,000 |",
    );
    expect(table).toContain("| under 25 ms | **NO** |");
    expect(table).toContain("| never measured | ms | n/a |");
  });

  it("draw an SVG with escaped text, one panel per unit, that renders to PNG", () => {
    const svg = metricsChartSvg("Title & co", "sub", [met, missed, empty]);
    expect(svg).toContain("p99 &lt;latency&gt; &amp; more");
    expect(svg).toContain("Title &amp; co");
    expect(svg.match(/font-weight="bold" fill="#666666"/g)).toHaveLength(2);
    const png = renderPng(svg);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  });

  it("renders without the font file too", () => {
    const svg = metricsChartSvg("t", "s", [met]);
    const png = renderPng(svg, "/nonexistent/font.ttf");
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  });

  it("accept a result file whose empty metric has a null median", () => {
    const json = JSON.parse(
      JSON.stringify({
        scenario: "x",
        title: "t",
        description: "d",
        date: new Date().toISOString(),
        machine: {},
        revision: { commit: "abc" },
        metrics: [empty],
        notes: [],
      }),
    );
    expect(resultFileProblems(json)).toEqual([]);
    expect(resultFileProblems({ ...json, metrics: [{}] })).toEqual([
      "metrics[0].name: must be a string",
      "metrics[0].samples: must be a list",
      "metrics[0].summary.median: must be a number or null",
    ]);
  });
});
