import { describe, expect, it } from "vitest";
import { jobName } from "./job-name.js";
import { isDnsLabel } from "./kube-names.js";

const RUN = "0b6f1a52-3c1e-4a8e-9a57-7d0e2f6c9b11";

describe("jobName", () => {
  it("is readable, stable, and a DNS-1123 label", () => {
    const name = jobName(RUN, "extract", 1);
    expect(name).toMatch(/^deerflow-extract-[0-9a-f]{10}-1$/);
    expect(jobName(RUN, "extract", 1)).toBe(name);
    expect(isDnsLabel(name)).toBe(true);
  });

  it("differs per run, task and attempt, also for ids that reduce alike", () => {
    const names = new Set([
      jobName(RUN, "a.b", 1),
      jobName(RUN, "a-b", 1),
      jobName(RUN, "A_B", 1),
      jobName(RUN, "a.b", 2),
      jobName("another-run", "a.b", 1),
    ]);
    expect(names.size).toBe(5);
  });

  it("fits 63 characters for long and odd task ids", () => {
    for (const taskId of [
      "x".repeat(200),
      "process[12].transform.load_the_warehouse_tables_in_parallel",
      "[]",
      "---",
      "Ünïcödé ταsk",
    ]) {
      const name = jobName(RUN, taskId, 123);
      expect(name.length, taskId).toBeLessThanOrEqual(63);
      expect(isDnsLabel(name), name).toBe(true);
      expect(name.endsWith("-123")).toBe(true);
    }
    expect(jobName(RUN, "[]", 1)).toMatch(/^deerflow-[0-9a-f]{10}-1$/);
  });
});
