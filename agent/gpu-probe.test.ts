import { describe, expect, it } from "vitest";
import { normalizeGpuType, parseNvidiaSmiCsv } from "./gpu-probe.js";

describe("parseNvidiaSmiCsv", () => {
  it("reads index, model and memory (MiB) of each GPU", () => {
    const text =
      "0, NVIDIA H100 80GB HBM3, 81559\n1, NVIDIA H100 80GB HBM3, 81559\n";
    expect(parseNvidiaSmiCsv(text)).toEqual([
      { index: 0, type: "nvidia-h100-80gb-hbm3", memoryBytes: 81559 * 2 ** 20 },
      { index: 1, type: "nvidia-h100-80gb-hbm3", memoryBytes: 81559 * 2 ** 20 },
    ]);
  });

  it("records unknown memory as 0 and skips blank lines", () => {
    expect(parseNvidiaSmiCsv("\r\n3, GRID T4-4Q, [N/A]\r\n\n")).toEqual([
      { index: 3, type: "grid-t4-4q", memoryBytes: 0 },
    ]);
  });

  it("passes over a line that is no GPU, such as a driver's warning", () => {
    const text =
      "WARNING: infoROM is corrupted at gpu 0000:00:04.0\n" +
      "0, NVIDIA A100-SXM4-40GB, 40960\n";
    expect(parseNvidiaSmiCsv(text)).toEqual([
      { index: 0, type: "nvidia-a100-sxm4-40gb", memoryBytes: 40960 * 2 ** 20 },
    ]);
  });

  it("names the line it cannot read when no line is a GPU", () => {
    expect(() => parseNvidiaSmiCsv("No devices were found\n")).toThrow(
      /unexpected line "No devices were found"/,
    );
  });
});

describe("normalizeGpuType", () => {
  it("lower-cases and joins words with dashes", () => {
    expect(normalizeGpuType(" NVIDIA A100-SXM4-40GB ")).toBe(
      "nvidia-a100-sxm4-40gb",
    );
    expect(normalizeGpuType("NVIDIA GeForce RTX 4090")).toBe(
      "nvidia-geforce-rtx-4090",
    );
  });
});
