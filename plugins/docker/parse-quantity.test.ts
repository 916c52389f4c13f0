import { describe, expect, it } from "vitest";
import {
  parseCpuNanos,
  parseMemoryBytes,
  parseQuantity,
  QuantityError,
} from "./parse-quantity.js";

describe("parseQuantity", () => {
  it("reads plain, decimal-suffixed, binary-suffixed and exponent forms", () => {
    const cases: [string | number, number][] = [
      ["2", 2],
      ["0.5", 0.5],
      [".5", 0.5],
      ["+3", 3],
      ["500m", 0.5],
      ["250u", 0.00025],
      ["1k", 1000],
      ["1.5G", 1.5e9],
      ["2E", 2e18],
      ["512Mi", 512 * 2 ** 20],
      ["4Gi", 4 * 2 ** 30],
      ["1Ki", 1024],
      ["1e3", 1000],
      ["2E-1", 0.2],
      [3, 3],
      [0, 0],
    ];
    for (const [text, value] of cases) {
      expect(parseQuantity(text, "f"), String(text)).toBeCloseTo(value, 9);
    }
  });

  it("refuses what is not a quantity, naming the field", () => {
    for (const bad of ["", "lots", "1.5.2", "-1", "1mi", "1 Gi", "Gi", "1KB"]) {
      expect(() => parseQuantity(bad, "config.resources.memory"), bad).toThrow(
        /^config\.resources\.memory: .* is not a quantity/,
      );
    }
    expect(() => parseQuantity(-1, "f")).toThrow(QuantityError);
    expect(() => parseQuantity(Number.NaN, "f")).toThrow(QuantityError);
    expect(() => parseQuantity(true, "f")).toThrow(/expected a quantity/);
  });
});

describe("parseCpuNanos", () => {
  it("turns cores into Docker NanoCpus", () => {
    expect(parseCpuNanos("500m", "c")).toBe(500_000_000);
    expect(parseCpuNanos("2", "c")).toBe(2_000_000_000);
    expect(parseCpuNanos(0.25, "c")).toBe(250_000_000);
    expect(parseCpuNanos("0.1", "c")).toBe(100_000_000);
  });

  it("refuses zero, which Docker reads as no limit", () => {
    expect(() => parseCpuNanos("0", "config.resources.cpu")).toThrow(
      /config\.resources\.cpu: "0" must be > 0/,
    );
  });
});

describe("parseMemoryBytes", () => {
  it("turns sizes into whole bytes", () => {
    expect(parseMemoryBytes("512Mi", "m")).toBe(536_870_912);
    expect(parseMemoryBytes("1G", "m")).toBe(1_000_000_000);
    expect(parseMemoryBytes(1.5, "m")).toBe(2);
    expect(parseMemoryBytes(67_108_864, "m")).toBe(67_108_864);
  });

  it("refuses zero and sizes beyond a safe integer", () => {
    expect(() => parseMemoryBytes(0, "m")).toThrow(/must be > 0/);
    expect(() => parseMemoryBytes("100E", "m")).toThrow(/too large/);
  });
});
