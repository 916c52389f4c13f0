import { describe, expect, it } from "vitest";
import {
  BenchUsageError,
  DEFAULT_DATABASE_URL,
  parseBenchOptions,
} from "./bench-options.js";

const KNOWN = ["throughput", "latency", "chain"];

describe("bench options", () => {
  it("default to every scenario and the issue's sizes", () => {
    const o = parseBenchOptions([], KNOWN);
    expect(o.scenarios).toEqual(KNOWN);
    expect(o).toMatchObject({
      quick: false,
      repeat: 3,
      warmup: 1,
      warmupTasks: 5000,
      databaseUrl: DEFAULT_DATABASE_URL,
      tasks: undefined,
      agents: 4,
      slots: 256,
      leaseTtlMs: 5000,
    });
  });

  it("take scenarios, quick and overrides", () => {
    const o = parseBenchOptions(
      [
        "chain",
        "throughput",
        "--quick",
        "--tasks",
        "100,2_000",
        "--slots",
        "8",
      ],
      KNOWN,
    );
    expect(o.scenarios).toEqual(["chain", "throughput"]);
    expect(o.repeat).toBe(2);
    expect(o.tasks).toEqual([100, 2000]);
    expect(o.slots).toBe(8);
  });

  it("name the flag or scenario that is wrong", () => {
    const cases: [string[], string][] = [
      [["nope"], 'SCENARIO: unknown scenario "nope"'],
      [["--repeat", "0"], "--repeat: must be between 1 and 100, got 0"],
      [["--tasks", "10,x"], '--tasks: must be a whole number, got "x"'],
      [
        ["--warmup-tasks", "5_"],
        '--warmup-tasks: must be a whole number, got "5_"',
      ],
      [
        ["--warmup-tasks", "0"],
        "--warmup-tasks: must be between 1 and 1000000, got 0",
      ],
      [
        ["--database-url", "mysql://x"],
        "--database-url: must be a postgres://",
      ],
      [["--log-level", "loud"], "--log-level: must be one of"],
      [["--frobnicate"], "--frobnicate"],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseBenchOptions(argv, KNOWN), argv.join(" ")).toThrow(
        BenchUsageError,
      );
      expect(() => parseBenchOptions(argv, KNOWN)).toThrow(message);
    }
  });
});
