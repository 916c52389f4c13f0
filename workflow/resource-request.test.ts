import { describe, expect, it } from "vitest";
import {
  gpuTypeMatches,
  gpuTypePattern,
  resourceRequest,
} from "./resource-request.js";

describe("resourceRequest", () => {
  it("turns quantities into millicores, bytes and whole GPUs", () => {
    expect(
      resourceRequest({
        cpu: "500m",
        memory: "1.5Gi",
        gpu: { count: 2, type: "nvidia-h100", memory: "40Gi" },
        storage: { size: "100Gi", type: "ssd" },
      }),
    ).toEqual({
      cpu_millis: 500,
      memory_bytes: 1.5 * 2 ** 30,
      gpu_count: 2,
      gpu_type: "nvidia-h100",
      gpu_type_pattern: "(^|[^a-z0-9])nvidia[^a-z0-9]+h100($|[^a-z0-9])",
      gpu_memory_bytes: 40 * 2 ** 30,
      storage_bytes: 100 * 2 ** 30,
      storage_type: "ssd",
    });
  });

  it("reads the short forms, rounding up and never below what is written", () => {
    expect(resourceRequest({ cpu: 2, gpu: "1", storage: "1e3" })).toEqual({
      cpu_millis: 2000,
      memory_bytes: 0,
      gpu_count: 1,
      storage_bytes: 1000,
    });
    expect(resourceRequest({ cpu: "0.1" })?.cpu_millis).toBe(100);
    expect(resourceRequest({ cpu: "1001u" })?.cpu_millis).toBe(2);
    expect(resourceRequest({ memory: "1.5" })?.memory_bytes).toBe(2);
    expect(resourceRequest({ gpu: { type: "a100" } })?.gpu_count).toBe(1);
  });

  it("is null for a task that asks for nothing", () => {
    expect(resourceRequest(undefined)).toBeNull();
    expect(resourceRequest({})).toBeNull();
    expect(resourceRequest({ cpu: "0", memory: 0, gpu: 0 })).toBeNull();
  });

  it("refuses what validation would have refused", () => {
    expect(() => resourceRequest({ cpu: "lots" })).toThrow(/"lots"/);
    expect(() => resourceRequest({ memory: "1e300" })).toThrow(/at most/);
  });
});

describe("gpuTypeMatches", () => {
  const models = [
    "NVIDIA H100 80GB HBM3",
    "NVIDIA H100 PCIe",
    "NVIDIA H1000",
    "NVIDIA A100-SXM4-40GB",
    "Tesla T4",
  ];

  it("matches the wanted words in order, as whole words", () => {
    const matching = (wanted: string) =>
      models.filter((m) => gpuTypeMatches(m, wanted));
    expect(matching("nvidia-h100")).toEqual([
      "NVIDIA H100 80GB HBM3",
      "NVIDIA H100 PCIe",
    ]);
    expect(matching("H100")).toEqual([
      "NVIDIA H100 80GB HBM3",
      "NVIDIA H100 PCIe",
    ]);
    expect(matching("a100 40gb")).toEqual([]);
    expect(matching("a100-sxm4")).toEqual(["NVIDIA A100-SXM4-40GB"]);
    expect(matching("t4")).toEqual(["Tesla T4"]);
  });

  it("says the same as its regular expression, which the claim uses", () => {
    for (const wanted of [
      "nvidia-h100",
      "H100",
      "a100 40gb",
      "a100-sxm4",
      "t4",
      "nvidia",
    ]) {
      const pattern = new RegExp(gpuTypePattern(wanted));
      for (const model of models) {
        expect(pattern.test(model.toLowerCase()), `${wanted} ~ ${model}`).toBe(
          gpuTypeMatches(model, wanted),
        );
      }
    }
  });
});
