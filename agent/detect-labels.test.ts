import { statfs } from "node:fs/promises";
import os from "node:os";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { definePlugin } from "../plugin-sdk/index.js";
import { detectLabels, gpuLabels } from "./detect-labels.js";
import type { Gpu } from "./gpu-probe.js";

const silent = pino({ level: "silent" });

function probePlugin(type: string, probe: () => Record<string, string>) {
  return definePlugin({
    type,
    version: "1.0.0",
    configSchema: { type: "object" },
    probe,
    execute: async () => undefined,
  });
}

describe("detectLabels", () => {
  const h100: Gpu = { index: 0, type: "nvidia-h100", memoryBytes: 80e9 };
  const a100: Gpu = { index: 1, type: "nvidia-a100", memoryBytes: 40e9 };

  it("reports the host and the GPUs a stand-in probe finds", async () => {
    const facts = await detectLabels({
      gpuProbe: async () => [h100, a100],
      logger: silent,
    });
    expect(facts.labels).toMatchObject({
      os: process.platform,
      hostname: os.hostname(),
      cpu_count: String(os.availableParallelism()),
      memory_bytes: String(os.totalmem()),
      gpu_count: "2",
      gpu_type: "nvidia-a100,nvidia-h100",
      gpu_memory_bytes: String(40e9),
    });
    expect(facts.labels.arch).toMatch(/^[a-z0-9]+$/);
    expect(facts.resources).toEqual({
      cpuMillis: os.availableParallelism() * 1000,
      memoryBytes: os.totalmem(),
      gpus: [h100, a100],
      storageBytes: 0,
      storageType: "",
    });
  });

  it("offers the free space of the work root as storage, of the declared type", async () => {
    const facts = await detectLabels({
      gpuProbe: async () => [],
      logger: silent,
      workRoot: os.tmpdir(),
      declared: { storage_type: "ssd" },
    });
    const fs = await statfs(os.tmpdir());
    // Free space moves while the test runs: within 1 GiB of a fresh read.
    expect(
      Math.abs(facts.resources.storageBytes - fs.bavail * fs.bsize),
    ).toBeLessThan(2 ** 30);
    expect(facts.resources.storageBytes).toBeGreaterThan(0);
    expect(facts.resources.storageType).toBe("ssd");
    const nowhere = await detectLabels({
      gpuProbe: async () => [],
      logger: silent,
      workRoot: "/nonexistent/deerflow-work",
    });
    expect(nowhere.resources.storageBytes).toBe(0);
  });

  it("adds plugin probe labels but never lets them override facts", async () => {
    const facts = await detectLabels({
      gpuProbe: async () => [],
      logger: silent,
      plugins: [
        probePlugin("spark", () => ({ spark_submit: "3.5.1", os: "plan9" })),
        probePlugin("broken", () => {
          throw new Error("probe exploded");
        }),
      ],
    });
    expect(facts.labels.spark_submit).toBe("3.5.1");
    expect(facts.labels.os).toBe(process.platform);
    expect(facts.labels.gpu_count).toBe("0");
  });

  it("carries on without GPUs when the probe fails", async () => {
    const facts = await detectLabels({
      gpuProbe: async () => {
        throw new Error("driver mismatch");
      },
      logger: silent,
    });
    expect(facts.resources.gpus).toEqual([]);
    expect(facts.labels.gpu_count).toBe("0");
  });
});

describe("gpuLabels", () => {
  it("has only a zero count without GPUs", () => {
    expect(gpuLabels([])).toEqual({ gpu_count: "0" });
  });
});
